"""Downgrade detection, the sender-domain half and the tracker's durability
(issue 5 gaps; SPEC §7, docs/downgrade-detection.md).

Real parts: a real unbound (lib/dnsserver.py) serving an unsigned zone with
MTA-STS TXT records and a DNSSEC-signed zone (dane.test.) with TLSA records,
validated by that unbound (mxgate runs with dns.dnssec: trust-ad); a real
HTTPS policy server (lib/outbound_peers.PolicyServer, certificates from a
private CA given to mxgate as tls.ca_file); smtplib and openssl s_client
as clients; strace to see which thread writes the tracker's records.

- MTA-STS counts only in mode enforce: plaintext mail from a domain whose
  policy is enforce -> tls.downgrade_suspected (source mta-sts); testing,
  none, or a TXT record whose policy cannot be fetched -> no event.
- The policy fetch never holds the session: a policy host that accepts and
  never answers keeps the fetch waiting 10 s, while the client's 250 and
  221 come at once.
- DANE: a sender domain whose MX has signed TLSA records -> event (source
  dane); the same records in an unsigned zone -> no event.
- Tracker durability: a failed handshake, kill -9 right after its
  tls.handshake_failed event, restart: the plaintext retry is still
  suspected. Under strace, the record is written by a thread other than
  the I/O thread, with fsync of the file and of its directory before the
  rename is visible.
Addresses: 127.0.19.1-99 (port 443: needs root).
"""

import os
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import CaptureSink, Check, Mxgate, require, skip  # noqa: E402

try:
    from lib.outbound_peers import PolicyServer, TestCA  # noqa: E402
except ImportError as e:  # python3-cryptography
    skip("outbound peers need python3-cryptography: %s" % e)

MX = ("127.0.19.1", 2525)
HOME = ("127.0.19.3", 2526)
DNS_ADDR = "127.0.19.53"
POLICY = "127.0.19.80"
POLICY_SILENT = "127.0.19.81"   # accepts TLS connections and never answers
SUSPECT = "127.0.19.10"         # fails a handshake, mxgate is killed, it comes back in plaintext
CLIENT = "127.0.19.11"          # plain client for the sender-domain cases

CONFIG = """
hostname: mx.gaps.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.19.1:2525", tls: starttls }
tls:
  self_signed: true
  certificate: {dir}/cert.pem
  key: {dir}/key.pem
  ca_file: CAFILE
  inbound: { profile: modern }
dns: { resolver: "DNSENDPOINT", dnssec: trust-ad }
domains:
  - name: example.test
    recipients: ["@example.test"]
    downstream: { address: "127.0.19.3:2526", tls: none }
policy: { spf: { enabled: false }, dkim: { verify: false }, dmarc: { enforce: false } }
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
"""


def policy_text(mode, mx):
    return "version: STSv1\r\nmode: %s\r\n%smax_age: 86400\r\n" % (mode, "".join("mx: %s\r\n" % m for m in mx))


class SilentTls:
    """Accepts TCP on address:443 and never says a word (the fetch times out)."""

    def __init__(self, address):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, 443))
        self.sock.listen(16)
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)


def send_plain(sender, source=CLIENT, helo="client.gaps.test"):
    """Delivers in plaintext; returns (queue id, seconds from DATA to the 221)."""
    s = smtplib.SMTP(*MX, source_address=(source, 0), local_hostname=helo, timeout=30)
    msg = ("From: %s\r\nTo: alice@example.test\r\nSubject: gaps\r\n\r\nhello\r\n" % sender).encode()
    s.ehlo()
    s.mail(sender)
    s.rcpt("alice@example.test")
    t0 = time.time()
    code, text = s.data(msg)
    qcode, _ = s.docmd("QUIT")
    elapsed = time.time() - t0
    s.close()
    text = text.decode()
    qid = text.rsplit("queued as", 1)[1].strip() if code == 250 and "queued as" in text else None
    return qid, elapsed, qcode


def main():
    if os.geteuid() != 0:
        skip("needs root for port 443 on loopback")
    require("openssl")
    require("strace")
    work = tempfile.mkdtemp(prefix="dgaps-")
    ca = TestCA(work)

    sts = {  # domain: policy route (or None: the policy host never answers)
        "enforce.sts.test": (POLICY, (200, "text/plain", policy_text("enforce", ["mx.enforce.sts.test"]), {})),
        "testing.sts.test": (POLICY, (200, "text/plain", policy_text("testing", ["mx.testing.sts.test"]), {})),
        "none.sts.test": (POLICY, (200, "text/plain", "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n", {})),
        "missing.sts.test": (POLICY, (404, "text/plain", "not found", {})),
        "slow.sts.test": (POLICY_SILENT, None),
    }
    records, routes = [], {}
    for d, (server, route) in sts.items():
        records += ['_mta-sts.%s. TXT "v=STSv1; id=20261122g19"' % d, "mta-sts.%s. A %s" % (d, server),
                    "%s. MX 10 mx.%s." % (d, d), "mx.%s. A 127.0.19.99" % d]
        if route:
            routes["mta-sts." + d] = route
    # DANE: the same TLSA record in the signed and in an unsigned zone.
    tlsa = "3 1 1 " + "ab" * 32
    for d in ("signed.dane.test", "insecure.plain.test"):
        records += ["%s. MX 10 mx.%s." % (d, d), "mx.%s. A 127.0.19.98" % d, "_25._tcp.mx.%s. TLSA %s" % (d, tlsa)]
    records += ["nothing.plain.test. MX 10 mx.nothing.plain.test.", "mx.nothing.plain.test. A 127.0.19.97"]

    try:
        dns = DnsServer(DNS_ADDR, None, records=records, signed_zones=["dane.test."],
                        zones=["sts.test.", "plain.test."]).start()
    except DnsServerUnavailable as e:
        skip(str(e))
    https = ca.issue("mta-sts", ["mta-sts." + d for d in sts])
    policy = PolicyServer(POLICY, https, routes).start()
    silent = SilentTls(POLICY_SILENT)
    home = CaptureSink(*HOME).start()
    t = Check()
    try:
        rc, ad, n = dns.query("_25._tcp.mx.signed.dane.test.", "TLSA", dnssec=True)
        t.true("signed zone: TLSA with AD", rc == 0 and ad and n >= 1, "rcode=%s ad=%s n=%s" % (rc, ad, n))
        rc, ad, n = dns.query("_25._tcp.mx.insecure.plain.test.", "TLSA", dnssec=True)
        t.true("unsigned zone: TLSA without AD", rc == 0 and not ad and n == 1, "rcode=%s ad=%s n=%s" % (rc, ad, n))

        with Mxgate(CONFIG.replace("CAFILE", ca.ca_file).replace("DNSENDPOINT", dns.endpoint), name="dgaps") as mx:
            mx.start(wait_for=[MX])

            def suspected(qid, wait=0.0):
                if wait:
                    time.sleep(wait)
                return [e for e in mx.events("tls.downgrade_suspected") if e.get("queue_id") == qid]

            # 1. MTA-STS enforce: suspected, after the policy was fetched.
            qid, elapsed, _ = send_plain("eve@enforce.sts.test")
            t.true("enforce sender accepted", qid is not None)
            ev = mx.wait_event("tls.downgrade_suspected", lambda e: e.get("queue_id") == qid)[0]
            t.eq("enforce: source", ev.get("source"), "mta-sts")
            t.eq("enforce: domain", ev.get("domain"), "enforce.sts.test")
            t.eq("enforce: sender", ev.get("sender"), "eve@enforce.sts.test")
            t.true("enforce: reason names the mode", "mode enforce" in ev.get("reason", ""), ev.get("reason"))
            f = mx.wait_event("mta_sts.fetched", lambda e: e.get("domain") == "enforce.sts.test")[0]
            t.eq("enforce: policy fetched over HTTPS", f.get("mode"), "enforce")
            t.true("policy server saw the GET", ("mta-sts.enforce.sts.test", "/.well-known/mta-sts.txt")
                   in policy.requests, str(policy.requests))
            # Again: from the posture cache, same verdict, no second fetch.
            qid2, _, _ = send_plain("eve2@enforce.sts.test")
            mx.wait_event("tls.downgrade_suspected", lambda e: e.get("queue_id") == qid2)
            t.eq("enforce: policy fetched once",
                 len([r for r in policy.requests if r[0] == "mta-sts.enforce.sts.test"]), 1)

            # 2. testing / none / unfetchable policy: never suspected.
            for dom, wait_for in (("testing.sts.test", "mta_sts.fetched"), ("none.sts.test", "mta_sts.fetched"),
                                  ("missing.sts.test", "mta_sts.failed")):
                qid, _, _ = send_plain("bob@" + dom)
                t.true(dom + " sender accepted", qid is not None)
                e = mx.wait_event(wait_for, lambda e, d=dom: e.get("domain") == d)[0]
                if wait_for == "mta_sts.fetched":
                    t.eq(dom + ": fetched mode", e.get("mode"), dom.split(".")[0])
                t.eq(dom + ": no downgrade suspicion", suspected(qid, wait=1.0), [])

            # 3. The fetch never holds the session: the policy host is silent.
            qid, elapsed, qcode = send_plain("carol@slow.sts.test")
            t.true("slow policy host: 250 and 221 at once", qid is not None and qcode == 221 and elapsed < 3.0,
                   "qid=%s quit=%s %.2fs" % (qid, qcode, elapsed))
            e = mx.wait_event("mta_sts.failed", lambda e: e.get("domain") == "slow.sts.test", timeout=30)[0]
            t.true("slow policy host: the fetch failed later (handshake never answered)",
                   "mta-sts.slow.sts.test" in e.get("error", ""), e.get("error"))
            t.eq("slow policy host: no suspicion", suspected(qid), [])

            # 4. DANE: signed TLSA -> suspected; unsigned TLSA or none -> not.
            qid, _, _ = send_plain("dave@signed.dane.test")
            ev = mx.wait_event("tls.downgrade_suspected", lambda e: e.get("queue_id") == qid)[0]
            t.eq("dane: source", ev.get("source"), "dane")
            t.eq("dane: domain", ev.get("domain"), "signed.dane.test")
            t.true("dane: reason names the MX", "mx.signed.dane.test" in ev.get("reason", ""), ev.get("reason"))
            for dom in ("insecure.plain.test", "nothing.plain.test"):
                qid, _, _ = send_plain("erin@" + dom)
                t.true(dom + " sender accepted", qid is not None)
                t.eq(dom + ": no downgrade suspicion", suspected(qid, wait=1.5), [])

            # Over TLS, even an enforce sender raises nothing.
            s = smtplib.SMTP(*MX, source_address=(CLIENT, 0), timeout=20)
            ctx = ssl.create_default_context()
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            s.starttls(context=ctx)
            s.sendmail("frank@enforce.sts.test", ["alice@example.test"],
                       b"From: frank@enforce.sts.test\r\nSubject: tls\r\n\r\nbody\r\n")
            s.quit()
            time.sleep(1.0)
            t.eq("TLS delivery from an enforce sender: no suspicion",
                 [e for e in mx.events("tls.downgrade_suspected") if e.get("sender") == "frank@enforce.sts.test"], [])
            mx.stop()

            # 5. Tracker durability: kill -9 right after the event.
            strace_log = os.path.join(work, "strace.txt")
            mx.start(wait_for=[MX], prefix=["strace", "-f", "-qq", "-e", "trace=openat,fsync,rename",
                                            "-o", strace_log])
            kids = subprocess.run(["pgrep", "-P", str(mx.proc.pid)], capture_output=True, text=True).stdout.split()
            t.eq("strace runs one mxgate", len(kids), 1)
            r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-name", "killed.gaps.test",
                                "-bind", SUSPECT + ":0", "-connect", "%s:%d" % MX, "-tls1_1"],
                               input="QUIT\n", capture_output=True, text=True, timeout=30)
            mx.wait_event("tls.handshake_failed", lambda e: e.get("client") == SUSPECT)
            # SIGKILL to mxgate itself (strace's child): no chance to flush anything.
            os.kill(int(kids[0]), 9)
            mx.proc.wait(timeout=10)
            files = os.listdir(os.path.join(mx.spool, "state", "tls_failures"))
            t.true("tracker record on disk after kill -9", any(f.startswith(SUSPECT.replace(".", "%2E") + "%7C") for f in files), str(files))
            check_strace(t, strace_log)

            mx.start(wait_for=[MX])
            qid, _, _ = send_plain("henry@sender.gaps.test", source=SUSPECT, helo="other.gaps.test")
            ev = mx.wait_event("tls.downgrade_suspected", lambda e: e.get("queue_id") == qid)[0]
            t.eq("after kill -9: source", ev.get("source"), "handshake_failure")
            t.true("after kill -9: original error", "unsupported protocol" in ev.get("error", ""), ev.get("error"))
    finally:
        home.stop()
        policy.httpd.shutdown()
        dns.stop()
    sys.exit(t.done())


def check_strace(t, path):
    """The tracker record: opened, fsync'ed, renamed and its directory
    fsync'ed, all by one thread that is not the I/O thread."""
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        t.true("strace log", False, str(e))
        return
    io_tid = None
    done = {}     # tid -> steps seen
    for line in lines:
        m = re.match(r"(\d+)\s+(\w+)\((.*)\)\s+=\s+(-?\d+)", line)
        if not m:
            continue
        tid, call, args, ret = int(m.group(1)), m.group(2), m.group(3), int(m.group(4))
        if io_tid is None:
            io_tid = tid  # the first traced line is mxgate's main (I/O) thread
        if call == "openat" and "/tls_failures/." in args and ".tmp" in args and ret >= 0:
            done[tid] = ["open"]
        elif call == "fsync" and tid in done:
            done[tid].append("fsync")
        elif call == "rename" and "/tls_failures/" in args and tid in done:
            done[tid].append("rename")
        elif call == "openat" and '/tls_failures"' in args and "O_DIRECTORY" in args and tid in done:
            done[tid].append("opendir")
    writers = {tid: steps for tid, steps in done.items()}
    t.true("strace saw the tracker write", writers, "\n".join(lines[-40:]))
    for tid, steps in writers.items():
        t.true("tracker write not on the I/O thread", tid != io_tid, "tid=%s io=%s" % (tid, io_tid))
        t.eq("tracker write: temp, fsync, rename, dir, fsync", steps[:5], ["open", "fsync", "rename", "opendir", "fsync"])


if __name__ == "__main__":
    main()
