"""TLS-RPT (RFC 8460, issue 3 item 7) against real peers on 127.0.14.x.

Peers: a real unbound serving the test zones (MX, A, _mta-sts and
_smtp._tls TXT), a test CA (tls.ca_file), receiving MX hosts on port 25
(valid certificate; no STARTTLS; a certificate naming another host), an
HTTPS server for the MTA-STS policy, another HTTPS server taking the
https: rua POSTs, and the mailto: rua's domain with its own MX (a real
SMTP receiver with a valid certificate).

Mail reaches the outbound route as in test_outbound_tls.py: a message to
home.test is refused by the home box (550), and mxgate's DSN to the sender
user@<destination domain> goes out over the internet route.

Cases:
  rpt-sts.test   MTA-STS enforce, MX 10 = wrong-name certificate, MX 20 = good:
                 per message one certificate-host-mismatch and one success;
                 rua mailto:tlsrpt@reports.test
  rpt-plain.test no policy, MX without STARTTLS: starttls-not-supported;
                 rua https://rua.https.test/v1/report
  rpt-none.test  no _smtp._tls record: recorded, never sent (skipped)
`mxgate report tls --send-now` triggers the run; the report mail's MIME
structure, headers and gunzip'ed JSON and the POST body are checked against
what happened; the report mail's own delivery is not counted (RFC 8460
§5.3); a restart sends nothing again; a completed day left unsent (seeded
in the state store) is sent at start, once.
"""

import base64
import datetime
import email
import email.policy
import gzip
import json
import os
import re
import smtplib
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import CaptureSink, Check, Mxgate, skip  # noqa: E402

try:
    from lib.outbound_peers import MxHost, PolicyServer, TestCA  # noqa: E402
except ImportError as e:  # python3-cryptography missing
    skip("outbound peers need python3-cryptography: %s" % e)

MXGATE = ("127.0.14.1", 2525)
HOME = ("127.0.14.2", 2526)
DNS = ("127.0.14.53", 5353)
MX_PLAIN = ("127.0.14.11", "mx-plain.test")
MX_TLS = ("127.0.14.12", "mx-tls.test")
MX_WRONG = ("127.0.14.14", "mx-wrong.test")
MX_REPORTS = ("127.0.14.20", "mx-reports.test")
STS_SERVER = "127.0.14.80"
RUA_SERVER = "127.0.14.81"

CONFIG = """
hostname: gw.tlsrpt.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.14.1:2525", tls: none }
tls:
  ca_file: CAFILE
  outbound:
    default: opportunistic
    use_mta_sts: true
    use_dane: false
    fallback: plaintext-logged
    tlsrpt: { enabled: true, organization: sender.test, contact: tlsrpt-reports@sender.test }
dns: { resolver: "127.0.14.53:5353", dnssec: off }
domains:
  - name: home.test
    recipients: ["@home.test"]
    downstream: { address: "127.0.14.2:2526", tls: none }
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
"""


def policy_text(mode, mx, max_age=86400):
    return "version: STSv1\r\nmode: %s\r\n%smax_age: %d\r\n" % (mode, "".join("mx: %s\r\n" % m for m in mx), max_age)


def state_file(spool, key):
    """The file of a core::StateStore key (state_store.cpp's encode_key)."""
    plain = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_@+,")
    name = "".join(chr(c) if c in plain else "%%%02X" % c for c in key.encode())
    return os.path.join(spool, "state", "tlsrpt", name)


def main():
    if os.geteuid() != 0:
        skip("needs root for ports 25 and 443 on loopback")
    work = tempfile.mkdtemp(prefix="tlsrpt-")
    ca = TestCA(work)
    records = ["%s. 1 A %s" % (h, a) for a, h in (MX_PLAIN, MX_TLS, MX_WRONG, MX_REPORTS)]
    records += [
        # rpt-sts.test: MTA-STS enforce; the preferred MX has a wrong-name certificate
        "rpt-sts.test. 1 MX 10 mx-wrong.test.",
        "rpt-sts.test. 1 MX 20 mx-tls.test.",
        '_mta-sts.rpt-sts.test. 1 TXT "v=STSv1; id=20261122;"',
        "mta-sts.rpt-sts.test. 1 A %s" % STS_SERVER,
        '_smtp._tls.rpt-sts.test. 1 TXT "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test"',
        # rpt-plain.test: no policy, an MX without STARTTLS
        "rpt-plain.test. 1 MX 10 mx-plain.test.",
        '_smtp._tls.rpt-plain.test. 1 TXT "v=TLSRPTv1;rua=https://rua.https.test/v1/report"',
        # rpt-none.test: good TLS, no TLSRPT record
        "rpt-none.test. 1 MX 10 mx-tls.test.",
        # rpt-old.test: only for the seeded completed day
        '_smtp._tls.rpt-old.test. 1 TXT "v=TLSRPTv1; rua=https://rua.https.test/old"',
        # where mailto: reports go, and the https rua host
        "reports.test. 1 MX 10 mx-reports.test.",
        "rua.https.test. 1 A %s" % RUA_SERVER,
    ]
    sts_policy = policy_text("enforce", ["mx-tls.test", "mx-wrong.test"])
    try:
        dns = DnsServer(DNS[0], DNS[1], records=records).start()
    except DnsServerUnavailable as e:
        skip(str(e))
    hosts = {
        "plain": MxHost(MX_PLAIN[0], "plain", name=MX_PLAIN[1]).start(),
        "tls": MxHost(MX_TLS[0], "tls", cert=ca.issue("mx-tls", ["mx-tls.test"]), name=MX_TLS[1]).start(),
        "wrong": MxHost(MX_WRONG[0], "tls", cert=ca.issue("mx-wrong", ["somebody-else.test"]), name=MX_WRONG[1]).start(),
        "reports": MxHost(MX_REPORTS[0], "tls", cert=ca.issue("mx-reports", ["mx-reports.test"]),
                          name=MX_REPORTS[1]).start(),
    }
    sts_server = PolicyServer(STS_SERVER, ca.issue("mta-sts", ["mta-sts.rpt-sts.test"]),
                              {"mta-sts.rpt-sts.test": (200, "text/plain", sts_policy, {})}).start()
    rua_server = PolicyServer(RUA_SERVER, ca.issue("rua", ["rua.https.test"]), {}).start()
    home = CaptureSink(*HOME, rcpt_reply=lambda a: "550 5.1.1 no such user").start()
    t = Check()
    config = CONFIG.replace("CAFILE", ca.ca_file)

    def send(domain, local="user"):
        s = smtplib.SMTP(*MXGATE, timeout=20)
        s.sendmail("%s@%s" % (local, domain), ["nobody@home.test"],
                   "From: %s@%s\r\nTo: nobody@home.test\r\nSubject: tlsrpt %s\r\n\r\nbody\r\n" % (local, domain, domain))
        s.quit()

    def delivered(host, rcpt):
        return [m for m in hosts[host].received() if rcpt in m["rcpts"]]

    def wait_for(fn, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            got = fn()
            if got:
                return got
            time.sleep(0.1)
        return fn()

    def report_json(mx):
        r = mx.run("report", "tls", "--json")
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise AssertionError("report tls --json: %r %r" % (r.stdout, r.stderr))

    mx = Mxgate(config, name="tlsrpt")
    try:
        mx.start(wait_for=[MXGATE])
        # --- traffic --------------------------------------------------
        for i in range(2):
            send("rpt-sts.test", "sts%d" % i)
        send("rpt-plain.test")
        send("rpt-none.test")
        for i in range(2):
            got = wait_for(lambda i=i: delivered("tls", "sts%d@rpt-sts.test" % i))
            t.true("rpt-sts.test message %d delivered to the good MX over TLS" % i, got and got[0]["tls"], got)
        t.eq("never delivered to the wrong-name MX", [m for m in hosts["wrong"].received()], [])
        got = wait_for(lambda: delivered("plain", "user@rpt-plain.test"))
        t.true("rpt-plain.test delivered in plaintext", got and not got[0]["tls"], got)
        got = wait_for(lambda: delivered("tls", "user@rpt-none.test"))
        t.true("rpt-none.test delivered over TLS", got and got[0]["tls"], got)
        time.sleep(1)

        view = report_json(mx)["tlsrpt"]
        by = {d["domain"]: d for d in view}
        t.eq("report tls: domains recorded", sorted(by), ["rpt-none.test", "rpt-plain.test", "rpt-sts.test"])
        sts_view = by.get("rpt-sts.test", {}).get("policies", [])
        t.eq("report tls: rpt-sts.test sts 2 ok, 2 certificate-host-mismatch",
             [(p["policy_type"], p["successful"], p["failed"], p["failures"]) for p in sts_view],
             [("sts", 2, 2, {"certificate-host-mismatch": 2})])
        t.eq("report tls: rpt-plain.test no-policy-found starttls-not-supported",
             [(p["policy_type"], p["successful"], p["failures"]) for p in by.get("rpt-plain.test", {}).get("policies", [])],
             [("no-policy-found", 0, {"starttls-not-supported": 1})])
        t.true("report tls: pending before sending", all(d["report"] == "pending" for d in view), view)
        text = mx.run("report", "tls").stdout
        t.true("report tls text has the TLS-RPT table",
               "TLS-RPT" in text and re.search(r"rpt-sts\.test\s+sts\s+certificate-host-mismatch\s+2", text), text)

        # --- trigger ----------------------------------------------------
        r = mx.run("report", "tls", "--send-now")
        t.true("--send-now: 2 reports sent, 1 skipped", r.returncode == 0 and "2 reports sent" in r.stdout
               and "1 skipped" in r.stdout, r.stdout + r.stderr)

        # mailto: the report mail at reports.test's MX
        mails = wait_for(lambda: delivered("reports", "tlsrpt@reports.test"))
        t.eq("one report mail to tlsrpt@reports.test", len(mails), 1)
        if mails:
            m = mails[0]
            t.true("report mail delivered over TLS", m["tls"])
            t.eq("envelope sender is the contact", m["mail_from"], "tlsrpt-reports@sender.test")
            msg = email.message_from_bytes(m["data"], policy=email.policy.compat32)
            t.eq("From", msg["From"], "tlsrpt-reports@sender.test")
            t.eq("To", msg["To"], "tlsrpt@reports.test")
            t.eq("TLS-Report-Domain", msg["TLS-Report-Domain"], "rpt-sts.test")
            t.eq("TLS-Report-Submitter", msg["TLS-Report-Submitter"], "sender.test")
            subject = re.sub(r"\r?\n", "", msg["Subject"] or "")  # unfold (RFC 5322 §2.2.3)
            t.true("Subject per RFC 8460 §5.3",
                   re.match(r"Report Domain: rpt-sts\.test Submitter: sender\.test Report-ID: <[^ ]+@gw\.tlsrpt\.test>$",
                            subject), subject)
            t.true("Date and Message-ID", msg["Date"] and re.match(r"<[^>]+@gw\.tlsrpt\.test>$", msg["Message-ID"] or ""),
                   (msg["Date"], msg["Message-ID"]))
            t.eq("MIME-Version", msg["MIME-Version"], "1.0")
            t.eq("multipart/report", msg.get_content_type(), "multipart/report")
            t.eq("report-type=tlsrpt", msg.get_param("report-type"), "tlsrpt")
            parts = msg.get_payload()
            t.eq("two parts: text/plain + application/tlsrpt+gzip",
                 [p.get_content_type() for p in parts], ["text/plain", "application/tlsrpt+gzip"])
            att = parts[1]
            fname = att.get_filename() or ""
            fm = re.match(r"^sender\.test!rpt-sts\.test!(\d+)!(\d+)!([0-9a-f]+)\.json\.gz$", fname)
            t.true("attachment name submitter!policy-domain!begin!end!id.json.gz", fm, fname)
            data = json.loads(gzip.decompress(att.get_payload(decode=True)))
            t.eq("organization-name", data.get("organization-name"), "sender.test")
            t.eq("contact-info", data.get("contact-info"), "tlsrpt-reports@sender.test")
            t.true("report-id present", data.get("report-id"), data)
            today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
            dr = data.get("date-range", {})
            t.eq("date-range start is today 00:00:00Z", dr.get("start-datetime"), today + "T00:00:00Z")
            t.true("date-range end is RFC 3339 UTC", re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", dr.get("end-datetime", "")), dr)
            if fm:
                t.eq("file name begin = start-datetime",
                     datetime.datetime.fromtimestamp(int(fm.group(1)), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     dr.get("start-datetime"))
            pols = data.get("policies", [])
            t.eq("one policy", len(pols), 1)
            if pols:
                p = pols[0]
                t.eq("policy", p["policy"], {"policy-type": "sts",
                                             "policy-string": ["version: STSv1", "mode: enforce", "mx: mx-tls.test",
                                                               "mx: mx-wrong.test", "max_age: 86400"],
                                             "policy-domain": "rpt-sts.test",
                                             "mx-host": ["mx-tls.test", "mx-wrong.test"]})
                t.eq("summary", p["summary"], {"total-successful-session-count": 2, "total-failure-session-count": 2})
                fd = p.get("failure-details", [])
                t.eq("failure-details: certificate-host-mismatch at mx-wrong.test 127.0.14.14, 2 sessions",
                     [(f["result-type"], f["receiving-mx-hostname"], f.get("receiving-ip"), f["failed-session-count"])
                      for f in fd], [("certificate-host-mismatch", "mx-wrong.test", "127.0.14.14", 2)])
                t.true("sending-mta-ip is an address", fd and re.match(r"^[0-9.:a-f]+$", fd[0].get("sending-mta-ip", "")), fd)

        # https: the POST
        posts = wait_for(lambda: rua_server.posts)
        t.eq("one POST to rua.https.test", [(p["host"], p["path"]) for p in posts], [("rua.https.test", "/v1/report")])
        if posts:
            t.eq("POST Content-Type", posts[0]["content_type"], "application/tlsrpt+gzip")
            data = json.loads(gzip.decompress(posts[0]["body"]))
            pols = data.get("policies", [])
            t.eq("rpt-plain.test report: no-policy-found, 0 ok, 1 failure",
                 [(p["policy"], p["summary"]) for p in pols],
                 [({"policy-type": "no-policy-found", "policy-domain": "rpt-plain.test"},
                   {"total-successful-session-count": 0, "total-failure-session-count": 1})])
            fd = pols[0].get("failure-details", []) if pols else []
            t.eq("starttls-not-supported at mx-plain.test",
                 [(f["result-type"], f["receiving-mx-hostname"], f.get("receiving-ip"), f["failed-session-count"]) for f in fd],
                 [("starttls-not-supported", "mx-plain.test", "127.0.14.11", 1)])

        sent = mx.wait_event("tlsrpt.sent", count=2)
        t.eq("tlsrpt.sent events", sorted((e.get("domain"), e.get("address")) for e in sent),
             [("rpt-plain.test", "https://rua.https.test/v1/report"), ("rpt-sts.test", "mailto:tlsrpt@reports.test")])
        t.eq("no tlsrpt.failed", mx.events("tlsrpt.failed"), [])
        time.sleep(1.5)
        view = report_json(mx)["tlsrpt"]
        by = {d["domain"]: d for d in view}
        t.eq("report status per domain", {d: v["report"] for d, v in by.items()},
             {"rpt-none.test": "skipped", "rpt-plain.test": "sent", "rpt-sts.test": "sent"})
        t.true("RFC 8460 §5.3: the report mail's own session is not counted", "reports.test" not in by, sorted(by))

        # --- restart: nothing is sent twice ------------------------------
        mx.stop()
        yesterday = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
        # A completed day the daemon never reported (it was down at midnight).
        with open(state_file(mx.spool, "results/%s/rpt-old.test" % yesterday), "w") as f:
            f.write("P\tno-policy-found\t0\t0\nS\t7\n")
        mx.start(wait_for=[MXGATE])
        old = wait_for(lambda: [p for p in rua_server.posts if p["path"] == "/old"], timeout=20)
        t.eq("after restart: the unsent completed day is sent once", len(old), 1)
        if old:
            data = json.loads(gzip.decompress(old[0]["body"]))
            t.eq("its date-range is yesterday, whole day", data.get("date-range"),
                 {"start-datetime": yesterday + "T00:00:00Z", "end-datetime": yesterday + "T23:59:59Z"})
            t.eq("its summary", data["policies"][0]["summary"],
                 {"total-successful-session-count": 7, "total-failure-session-count": 0})
        r = mx.run("report", "tls", "--send-now")
        t.true("after restart --send-now sends nothing again", r.returncode == 0 and r.stdout.startswith("0 reports sent"),
               r.stdout + r.stderr)
        mx.stop()
        mx.start(wait_for=[MXGATE])
        time.sleep(7)  # past the start-up pass
        t.eq("second restart: no report mail again", len(delivered("reports", "tlsrpt@reports.test")), 1)
        t.eq("second restart: no POST again", sorted(p["path"] for p in rua_server.posts), ["/old", "/v1/report"])
    except Exception:
        mx.dump()
        raise
    finally:
        mx.stop()
        home.stop()
        for h in hosts.values():
            h.stop()
        sts_server.stop()
        rua_server.stop()
        dns.stop()
    t.done()


if __name__ == "__main__":
    main()
