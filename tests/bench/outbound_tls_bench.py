#!/usr/bin/env python3
"""outbound_tls_bench.py — outbound TLS delivery throughput to one MX with
connection reuse: mxgate vs a private Postfix, in the same run (issue 3).

Not a test: never run by ctest (STYLE.md §3). Results and the exact
commands: docs/performance-outbound-tls.md.

    unbound 127.0.17.53:53   dest.test MX 10 mx.dest.test, mx.dest.test A 127.0.17.2
                             (zone test. with an SOA: negative answers are cached)
    mxgate  submission 127.0.17.1:2587 ─┐
    Postfix smtpd      127.0.17.3:2525 ─┴─ STARTTLS (verify, test CA) ─▶ tls_sink 127.0.17.2:25

Both relays deliver to the internet route of dest.test: an MX lookup at the
same unbound, then STARTTLS with the certificate verified against the test
CA and the name mx.dest.test (mxgate: tls.outbound.default verify, profile
intermediate; Postfix: smtp_tls_security_level = verify, TLS >= 1.2). The
MX is tls_sink (tls_sink.cpp), which discards and counts messages, TLS
handshakes and resumed sessions; its ceiling is measured alone first.

Each run of a relay:
  1. preload N messages while the route is blocked: the MX is not
     listening. mxgate: authenticated submission (Python smtplib, STARTTLS,
     AUTH PLAIN; smtp-source cannot authenticate); every message is tried
     once, refused, and deferred (queue.retry 1h). Postfix: smtp-source
     from mynetworks; smtpd puts every message on hold
     (check_client_access static:HOLD), so nothing is tried.
  2. start tls_sink; t0; release: `mxgate queue flush`, or `postsuper -H
     ALL` + `postqueue -f`.
  3. msgs/s = N / (time until tls_sink has counted N messages); CPU µs/msg
     = the relay's CPU from the release until its queue is empty, / N;
     TLS handshakes per message = tls_sink's handshakes / N.

Relays: mxgate; Postfix with TLS connection reuse (smtp_tls_connection_reuse
= yes, through tlsproxy: Postfix does not cache TLS connections otherwise);
Postfix with its defaults (no TLS connection reuse, a TLS session cache so
handshakes are resumed). Postfix's MX lookups go to the same unbound: it is
started in its own mount namespace (unshare -m) where /etc/resolv.conf is
a bind mount naming 127.0.17.53.

Needs root, Postfix (postfix, smtp-source), unbound, saslpasswd2
(sasl2-bin), python3-cryptography (the test CA), and the tls_sink binary.

    outbound_tls_bench.py --mxgate build-bench/mxgate --tls-sink build-bench/tests/bench/tls_sink
"""

import argparse
import json
import os
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import threading
import time

from benchlib import (MASTER_CF, SMTP_SOURCE, Conditions, MxgateProcess, PostfixInstance, disk_of, log, machine,
                      med, sched_wait, wait_port)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from lib.dnsserver import DnsServer  # noqa: E402
from lib.outbound_peers import TestCA  # noqa: E402

MX_SUB = ("127.0.17.1", 2587)
SINK = ("127.0.17.2", 25)
PF = ("127.0.17.3", 2525)
DNS = ("127.0.17.53", 53)
FROM = "bench@source.test"
RCPT = "user@dest.test"
USER, PASSWORD = "bench", "Bench-pw-17x"
SOA = "test. 300 SOA ns.test. hostmaster.test. 1 3600 600 86400 300"

MXGATE_CONFIG = """\
hostname: gw.source.test
spool: {dir}/spool
log: {{ format: json, level: info, file: {dir}/mxgate.log }}
listeners:
  - {{ name: submission, role: submission, address: "{host}:{port}", tls: starttls }}
tls:
  certificate: {dir}/submission.crt
  key: {dir}/submission.key
  self_signed: true
  ca_file: {ca}
  outbound: {{ default: verify, profile: intermediate }}
dns: {{ resolver: "{dns}" }}
auth:
  sasl: {{ service: smtp, mechanisms: [PLAIN], sasldb: {dir}/sasldb2 }}
  senders: {{ {user}: ["@source.test"] }}
# The route is blocked during the preload: one refused attempt each, then
# nothing until `mxgate queue flush`.
queue: {{ retry: [1h], max_lifetime: 5d, delay_warning: 5d }}
limits: {{ connections: 2000, connections_per_ip: 2000 }}
"""

POSTFIX_MAIN = """\
# Private Postfix for outbound_tls_bench.py: relays anything from
# mynetworks to the internet (MX lookup), TLS verified against the test CA.
compatibility_level = 3.6
queue_directory = {dir}/spool
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.source.test
mydomain = source.test
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains =
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
# Everything received goes on hold until the measurement releases it.
smtpd_recipient_restrictions = check_client_access static:HOLD, permit_mynetworks, reject
smtpd_tls_security_level = none
smtp_tls_security_level = verify
smtp_tls_CAfile = {ca}
smtp_tls_mandatory_protocols = >=TLSv1.2
smtp_tls_session_cache_database = btree:$data_directory/smtp_scache
smtp_tls_connection_reuse = {reuse}
# One line per TLS connection ("Verified TLS connection established"), like
# mxgate's tls.handshake event: the evidence that the name was verified.
smtp_tls_loglevel = 1
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
biff = no
"""

# tlsproxy: TLS connection reuse; pickup: `postqueue -f` pokes it.
EXTRA_CF = "tlsproxy  unix  - - n - 0 tlsproxy\npickup    unix  n - n 60 1 pickup\n"


def message(i, size):
    head = (f"From: {FROM}\r\nTo: {RCPT}\r\nSubject: outbound bench {i}\r\n"
            f"Message-ID: <bench-{i}-{time.monotonic_ns()}@source.test>\r\n\r\n")
    row = "x" * 76 + "\r\n"
    body = row * (size // len(row) + 1)  # SIZE bytes of body, like smtp-source -l SIZE
    return (head + body).encode()


class TlsSink:
    """tls_sink serve: counts connections, TLS handshakes, resumed sessions, messages."""

    def __init__(self, binary, addr, cert, key):
        self.cmd = [binary, "serve", addr[0], str(addr[1]), cert, key]
        self.addr = addr
        self.proc = None
        self.counts = {}

    def start(self):
        self.counts = {"conn": 0, "tls": 0, "resumed": 0, "mesg": 0}
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        while self.proc.poll() is None and not self._listening():
            time.sleep(0.02)
        if self.proc.poll() is not None:
            raise RuntimeError("tls_sink exited at start")
        # The probe above was one connection without a message; count from here.
        time.sleep(0.05)
        self.base = dict(self.counts)

    def _listening(self):
        import socket
        try:
            with socket.create_connection(self.addr, timeout=0.5) as s:
                return s.recv(64).startswith(b"220")
        except OSError:
            return False

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.counts = {k: int(v) for k, v in (f.split("=") for f in line.split())}
            except ValueError:
                continue

    def get(self, key):
        return self.counts.get(key, 0) - self.base.get(key, 0)

    def wait(self, n, timeout):
        deadline = time.monotonic() + timeout
        while self.get("mesg") < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"tls_sink counted {self.get('mesg')} of {n} in {timeout}s")
            time.sleep(0.005)
        return time.monotonic()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


class MxgateOutbound(MxgateProcess):
    name = "mxgate"

    def __init__(self, binary, workdir, ca_file, name="mxgate"):
        super().__init__(binary, os.path.join(workdir, name), MX_SUB)
        self.ca = ca_file
        self.name = name

    def setup(self):
        self.write_config(MXGATE_CONFIG.format(dir=self.dir, host=MX_SUB[0], port=MX_SUB[1], ca=self.ca,
                                               dns=f"{DNS[0]}:{DNS[1]}", user=USER))
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", os.path.join(self.dir, "sasldb2"), "-u", "gw.source.test",
                        USER], input=PASSWORD + "\n", text=True, check=True)

    def preload(self, n, size, threads=4):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the submission listener's self-signed certificate
        errors = []

        def submit(indices):
            try:
                with smtplib.SMTP(MX_SUB[0], MX_SUB[1], timeout=60) as s:
                    s.starttls(context=ctx)
                    s.login(USER, PASSWORD)
                    for i in indices:
                        s.sendmail(FROM, [RCPT], message(i, size))
            except Exception as e:  # noqa: BLE001 -- reported below
                errors.append(repr(e))

        ts = [threading.Thread(target=submit, args=(range(k, n, threads),)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errors:
            raise RuntimeError("preload failed: " + errors[0])
        # Every message has had its one refused attempt (the MX is down) when
        # the journal holds N delivery.deferred events.
        journal = os.path.join(self.dir, "spool", "state", "events.jsonl")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with open(journal) as f:
                    deferred = sum(1 for line in f if '"delivery.deferred"' in line)
            except FileNotFoundError:
                deferred = 0
            if deferred >= n:
                return
            time.sleep(0.1)
        raise TimeoutError(f"only {deferred} of {n} messages were tried and deferred")

    def release_cmds(self):
        return [[self.bin, "queue", "flush", "-c", self.config]]

    def verified_connections(self):
        """tls.handshake events of the internet route at level verify (this run's log)."""
        with open(os.path.join(self.dir, "mxgate.log")) as f:
            return sum(1 for line in f if '"tls.handshake"' in line and '"level":"verify"' in line)


class PostfixOutbound(PostfixInstance):
    def __init__(self, workdir, ca_file, reuse):
        self.name = "postfix" if reuse else "postfix-noreuse"
        super().__init__(os.path.join(workdir, self.name), PF)
        self.ca = ca_file
        self.reuse = reuse

    def setup(self):
        super().setup(POSTFIX_MAIN.format(dir=self.dir, ca=self.ca, reuse="yes" if self.reuse else "no"),
                      MASTER_CF.format(address=PF[0], port=PF[1]) + EXTRA_CF)
        self.resolv = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write(f"nameserver {DNS[0]}\n")

    def _postfix(self, verb, check=True, quiet=False):
        if verb != "start":
            return super()._postfix(verb, check, quiet)
        # master and every child it forks see the bench's resolv.conf; the
        # mount is private to the new namespace (unshare's default).
        script = f"mount --bind {self.resolv} /etc/resolv.conf && exec postfix -c {self.etc} start"
        return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, check=check,
                              timeout=60)

    def start(self):
        shutil.rmtree(os.path.join(self.dir, "spool"), ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "spool"))
        super().start()

    def preload(self, n, size, conc=10):
        r = subprocess.run([SMTP_SOURCE, "-s", str(conc), "-m", str(n), "-l", str(size), "-f", FROM, "-t", RCPT,
                            f"{PF[0]}:{PF[1]}"], capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError("smtp-source failed: " + r.stderr[-500:])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            held = sum(len(f) for _, _, f in os.walk(os.path.join(self.dir, "spool", "hold")))
            if held >= n:
                return
            time.sleep(0.1)
        raise TimeoutError(f"only {held} of {n} messages on hold")

    def verified_connections(self):
        """maillog lines of verified outbound TLS connections (cumulative: the log is kept)."""
        try:
            with open(os.path.join(self.dir, "maillog"), errors="replace") as f:
                # smtp's line (with reuse, tlsproxy logs the same connection once more)
                return sum(1 for line in f if " postfix/smtp[" in line
                           and "Verified TLS connection established to mx.dest.test" in line)
        except FileNotFoundError:
            return 0

    def release_cmds(self):
        return [["postsuper", "-c", self.etc, "-H", "ALL"], ["postqueue", "-c", self.etc, "-f"]]


def run_once(system, sink, n, size, timeout=600):
    cond = Conditions().start()
    system.start()
    verified0 = 0 if isinstance(system, MxgateOutbound) else system.verified_connections()
    try:
        t_pre = time.monotonic()
        system.preload(n, size)
        preload_s = time.monotonic() - t_pre
        sink.start()
        cpu0 = system.cpu()
        wait0 = {p: sched_wait([p]) for p in system.pids()}
        t0 = time.monotonic()
        for cmd in system.release_cmds():
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stdout} {r.stderr}")
        t_done = sink.wait(n, timeout)
        deadline = time.monotonic() + 30
        while system.queued() and time.monotonic() < deadline:
            time.sleep(0.02)
        cpu1 = system.cpu()
        # Time the relay's threads were runnable but had no CPU (processes
        # that exited meanwhile are not counted).
        waited = sum(sched_wait([p]) - wait0.get(p, 0.0) for p in system.pids())
        time.sleep(0.3)  # the last log lines
        verified = system.verified_connections() - verified0
        return dict({"per_s": n / (t_done - t0), "cpu_us_per_msg": (cpu1 - cpu0) * 1e6 / n,
                     "verified_tls_connections": verified,
                     "runqueue_wait_us_per_msg": waited * 1e6 / n,
                     "connections": sink.get("conn"), "handshakes": sink.get("tls"), "resumed": sink.get("resumed"),
                     "handshakes_per_msg": sink.get("tls") / n, "preload_s": preload_s}, **cond.finish())
    finally:
        sink.stop()
        system.stop()


def sink_ceiling(tls_sink_bin, sink, n, size):
    """tls_sink alone, loaded by its own client: 8 and 20 reused TLS connections."""
    out = {}
    for conns in (8, 20):
        sink.start()
        try:
            r = subprocess.run([tls_sink_bin, "blast", SINK[0], str(SINK[1]), str(conns), str(n), str(size)],
                               capture_output=True, text=True, timeout=300)
            out[conns] = json.loads(r.stdout)
        finally:
            sink.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mxgate", required=True, help="mxgate binary (a Release build)")
    ap.add_argument("--tls-sink", required=True, help="tls_sink binary (tests/bench/tls_sink.cpp)")
    ap.add_argument("--workdir", default="bench-out-tls", help="spools, logs and results (on the real disk)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--systems", default="mxgate,postfix,postfix-noreuse")
    ap.add_argument("--extra-mxgate", action="append", default=[], metavar="LABEL=BINARY",
                    help="another mxgate build measured in the same runs as system LABEL (e.g. a change under test)")
    ap.add_argument("--quick", action="store_true", help="one run, 500 messages")
    ap.add_argument("--nice", type=int, default=0, help="nice increment for everything (e.g. -10)")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.messages = 1, 500
    if args.nice:
        os.nice(args.nice)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if os.geteuid() != 0:
        sys.exit("outbound_tls_bench.py: needs root")
    for b in ("postfix", "unbound", "saslpasswd2", "unshare"):
        if not shutil.which(b) and not os.path.exists("/usr/sbin/" + b):
            sys.exit(f"outbound_tls_bench.py: missing {b}")

    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    ca = TestCA(workdir)
    crt, key = ca.issue("mx.dest.test", ["mx.dest.test"])
    sink = TlsSink(os.path.abspath(args.tls_sink), SINK, crt, key)
    # The SOA makes negative answers (no _mta-sts TXT, no TLSA, no AAAA)
    # cacheable, as on real zones (RFC 2308); without it every lookup
    # would go to the server again.
    records = [SOA, "dest.test. 300 MX 10 mx.dest.test.", f"mx.dest.test. 300 A {SINK[0]}",
               f"gw.source.test. 300 A {MX_SUB[0]}", f"pf.source.test. 300 A {PF[0]}"]
    dns = DnsServer(DNS[0], DNS[1], records=records, zones=["test."])
    dns.start()
    try:
        systems = {}
        for name in [s for s in args.systems.split(",") if s]:
            systems[name] = (MxgateOutbound(args.mxgate, workdir, ca.ca_file) if name == "mxgate"
                             else PostfixOutbound(workdir, ca.ca_file, reuse=(name == "postfix")))
        for extra in args.extra_mxgate:
            label, _, binary = extra.partition("=")
            systems[label] = MxgateOutbound(binary, workdir, ca.ca_file, name=label)
        for s in systems.values():
            s.setup()
        info = {"machine": machine(), "disk": disk_of(workdir), "started": time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                                                          time.gmtime()),
                "messages": args.messages, "size": args.size, "runs": args.runs, "nice": args.nice}
        cond = Conditions().start()
        info["sink_ceiling"] = sink_ceiling(args.tls_sink, sink, max(2000, args.messages), args.size)
        info["sink_ceiling_conditions"] = cond.finish()
        log(f"tls_sink alone: {info['sink_ceiling']} {info['sink_ceiling_conditions']}")
        per = {k: [] for k in systems}
        for r in range(args.runs):
            order = list(systems)
            order = order[r % len(order):] + order[:r % len(order)]  # rotate who goes first
            for k in order:
                res = run_once(systems[k], sink, args.messages, args.size)
                res["run"], res["position"] = r + 1, order.index(k) + 1
                per[k].append(res)
                log(f"run {r + 1} {k}: {res['per_s']:.0f} msgs/s, {res['cpu_us_per_msg']:.0f} µs CPU/msg, "
                    f"{res['handshakes']} TLS handshakes ({res['resumed']} resumed) on {res['connections']} "
                    f"connections ({res['verified_tls_connections']} logged as verified), "
                    f"{res['runqueue_wait_us_per_msg']:.0f} µs/msg waiting for a CPU, for {args.messages} messages; load {res['load_start'][0]}→{res['load_end'][0]}, "
                    f"steal {res['steal_pct']} %")
        info["results"] = {k: {"runs": v, "per_s": med([x["per_s"] for x in v]),
                               "cpu_us_per_msg": med([x["cpu_us_per_msg"] for x in v]),
                               "handshakes_per_msg": med([x["handshakes_per_msg"] for x in v])}
                           for k, v in per.items()}
        info["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump(info, f, indent=1)
        print(report(info))
    finally:
        dns.stop()


def report(info):
    out = [f"machine: {info['machine']}; disk: {info['disk']}; {info['messages']} messages of {info['size']} bytes, "
           f"{info['runs']} run(s), nice {info['nice']}; started {info['started']}",
           "tls_sink alone: " + ", ".join(f"{c} connections {v['per_s']:.0f} msgs/s"
                                          for c, v in info["sink_ceiling"].items()),
           "", "| relay | msgs/s (median) | runs | CPU µs/msg | waiting for a CPU µs/msg | TLS handshakes/msg "
           "| connections per run (logged verified) |",
           "|---|---|---|---|---|---|---|"]
    for k, r in info["results"].items():
        runs = ", ".join(f"{x['per_s']:.0f}" for x in r["runs"])
        conns = ", ".join(f"{x['connections']} ({x['verified_tls_connections']} verified)" for x in r["runs"])
        wait = med([x.get("runqueue_wait_us_per_msg") for x in r["runs"]])
        wait = f"{wait:.0f}" if wait is not None else "–"
        out.append(f"| {k} | {r['per_s']:.0f} | {runs} | {r['cpu_us_per_msg']:.0f} | {wait} | "
                   f"{r['handshakes_per_msg']:.3f} | {conns} |")
    res = info["results"]
    if "mxgate" in res:
        for k in res:
            if k != "mxgate":
                ratios = [m["per_s"] / p["per_s"] for m, p in zip(res["mxgate"]["runs"], res[k]["runs"])]
                out.append(f"- mxgate / {k}, per run (same run): " + ", ".join(f"{x:.2f}x" for x in ratios) +
                           f"; median of medians {res['mxgate']['per_s'] / res[k]['per_s']:.2f}x")
    out.append("- conditions per run (load 1-min start→end, steal %): " + "; ".join(
        f"{k} run {x['run']}: {x['load_start'][0]}→{x['load_end'][0]}, {x['steal_pct']}"
        for k, r in res.items() for x in r["runs"]))
    return "\n".join(out)


if __name__ == "__main__":
    main()
