#!/usr/bin/env python3
"""checks_bench.py — inbound messages/s with SPF + DKIM + DMARC evaluated
against a local DNS server, side by side with the same mxgate with the
checks off, in the same run (issue 4).

Not a test: never run by ctest (STYLE.md §3). Results and the exact
commands: docs/performance-checks.md.

    unbound 127.0.18.53:53  senderN.test: SPF "v=spf1 ip4:127.0.18.0/24 -all",
                            sel._domainkey.senderN.test (RSA 2048), _dmarc: p=reject
    smtp_replay (from 127.0.18.10) ─▶ mxgate checks on  127.0.18.1:2525 ─▶ smtp-sink 127.0.18.3:2526
    smtp_replay (from 127.0.18.10) ─▶ mxgate checks off 127.0.18.2:2525 ─▶ smtp-sink 127.0.18.4:2526

The messages are signed for real (python3-dkim, relaxed/relaxed, rsa-sha256,
2048-bit key) before the clock starts, from DOMAINS sender domains, and
replayed by smtp_replay (smtp_replay.cpp: one message per connection, like
smtp-source, which cannot send pre-signed messages). Every message passes
SPF, DKIM and DMARC (aligned), so the checks-on relay does all three and
delivers it; the events in its log are counted to show that (policy.spf,
policy.dkim and policy.dmarc with result pass, one each per message).

For every concurrency and run both relays are measured back to back, each
started fresh with an empty spool, alternating which goes first:
  accepted msgs/s   N / smtp_replay's elapsed time (every message 250)
  delivered msgs/s  N / (time until the relay's smtp-sink counted N)
  p50/p99 accept    smtp_replay: time from writing the final ".\\r\\n" to
                    reading the reply (this is where the checks run)
  CPU µs/msg        the mxgate process's utime+stime over the phase / N
  replies           every end-of-data reply code (451 4.3.2 = check pool full)
Load average and CPU steal time are recorded at the start and end of each run.
smtp_replay's own ceiling is measured first, into tls_sink (--tls-sink) or smtp-sink.

Needs root (source address binding is not, but the relays log to the work
directory and unbound is started), Postfix's smtp-sink, unbound, python3-dkim.

    checks_bench.py --mxgate build-bench/mxgate --replay build-bench/tests/bench/smtp_replay
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from benchlib import Conditions, MxgateProcess, Sink, disk_of, log, machine, med, proc_status, sched_wait, wait_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from lib.dkimkeys import import_dkim, make_key, txt  # noqa: E402
from lib.dnsserver import DnsServer  # noqa: E402

ON = ("127.0.18.1", 2525)
OFF = ("127.0.18.2", 2525)
ON_SINK = ("127.0.18.3", 2526)
OFF_SINK = ("127.0.18.4", 2526)
REPLAY_SINK = ("127.0.18.5", 2526)
CLIENT = "127.0.18.10"
DNS = ("127.0.18.53", 53)
RCPT = "user@bench.test"

MXGATE_CONFIG = """\
hostname: mx.checks.test
spool: {dir}/spool
log: {{ format: json, level: info, file: {dir}/mxgate.log }}
listeners:
  - {{ name: mx, role: mx, address: "{host}:{port}", tls: none }}
dns: {{ resolver: "{dns}" }}
domains:
  - name: bench.test
    recipients: ["@bench.test"]
    downstream: {{ address: "{sink_host}:{sink_port}", tls: none }}
{policy}
limits: {{ connections: 2000, connections_per_ip: 2000 }}
"""

POLICY_ON = ("# SPEC defaults: SPF, DKIM verification, DMARC enforcement on\n"
             "policy: { spf: { enabled: true }, dkim: { verify: true }, dmarc: { enforce: true } }")
POLICY_OFF = "policy: { spf: { enabled: false }, dkim: { verify: false }, dmarc: { enforce: false } }"


class Relay(MxgateProcess):
    def __init__(self, binary, workdir, name, listen, sink_addr, policy):
        super().__init__(binary, os.path.join(workdir, name), listen)
        self.name, self.sink_addr, self.policy = name, sink_addr, policy

    def setup(self):
        self.write_config(MXGATE_CONFIG.format(dir=self.dir, host=self.listen[0], port=self.listen[1],
                                               dns=f"{DNS[0]}:{DNS[1]}", sink_host=self.sink_addr[0],
                                               sink_port=self.sink_addr[1], policy=self.policy))

    def verdicts(self):
        """policy.* event results in this run's log: {"policy.spf": {"pass": n}, ...}."""
        out = {}
        with open(os.path.join(self.dir, "mxgate.log")) as f:
            for line in f:
                if '"policy.' not in line:
                    continue
                e = json.loads(line)
                out.setdefault(e["event"], {}).setdefault(e.get("result", "?"), 0)
                out[e["event"]][e.get("result", "?")] += 1
        return out


def build_messages(path, count, domains, size, privkey):
    """COUNT messages from DOMAINS sender domains, DKIM-signed, in smtp_replay's file format."""
    dkim = import_dkim()
    row = "y" * 76 + "\r\n"
    with open(path, "wb") as f:
        for i in range(count):
            dom = f"sender{i % domains}.test"
            sender = f"news{i}@{dom}"
            head = (f"From: Sender {i} <{sender}>\r\nTo: <{RCPT}>\r\nSubject: checks bench {i}\r\n"
                    f"Date: Sun, 22 Nov 2026 18:00:00 +0000\r\nMessage-ID: <checks-{i}@{dom}>\r\n\r\n")
            body = row * max(1, (size - len(head)) // len(row))
            raw = (head + body).encode()
            sig = dkim.sign(raw, b"sel", dom.encode(), privkey,
                            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
            data = sig.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n") + raw
            f.write(f"{sender} {RCPT} {len(data)}\n".encode() + data)


class _Proc:
    def __init__(self, proc):
        self.proc = proc

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


def start_replay_sink(tls_sink, workdir):
    if not tls_sink:
        return Sink(REPLAY_SINK).start()
    crt, key = os.path.join(workdir, "sink.crt"), os.path.join(workdir, "sink.key")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=sink.checks.test"],
                       check=True, capture_output=True)
    p = subprocess.Popen([tls_sink, "serve", REPLAY_SINK[0], str(REPLAY_SINK[1]), crt, key],
                         stdout=subprocess.DEVNULL)
    wait_port(REPLAY_SINK, proc=p)
    return _Proc(p)


def replay(binary, addr, conc, n, msgfile, timeout=600):
    r = subprocess.run([binary, addr[0], str(addr[1]), str(conc), str(n), msgfile, CLIENT], capture_output=True,
                       text=True, timeout=timeout)
    if not r.stdout.strip():
        raise RuntimeError(f"smtp_replay printed nothing: {r.stderr[-500:]}")
    return json.loads(r.stdout)


def run_once(relay, sink, replay_bin, conc, n, msgfile, timeout=600):
    cond = Conditions().start()
    sink.start()
    relay.start()
    try:
        time.sleep(0.5)
        cpu0 = relay.cpu()
        wait0 = sched_wait(relay.pids())
        t0 = time.monotonic()
        rep = replay(replay_bin, relay.listen, conc, n, msgfile, timeout)
        accepted = rep["accepted"]
        t_del = sink.wait(accepted, timeout) if accepted else time.monotonic()
        deadline = time.monotonic() + 30
        while relay.queued() and time.monotonic() < deadline:
            time.sleep(0.02)
        cpu1 = relay.cpu()
        waited = sched_wait(relay.pids()) - wait0
        res = {"runqueue_wait_us_per_msg": waited * 1e6 / n,"accepted_per_s": rep["per_s"], "delivered_per_s": accepted / (t_del - t0) if accepted else 0.0,
               "p50_ms": rep["p50_us"] / 1000, "p99_ms": rep["p99_us"] / 1000, "max_ms": rep["max_us"] / 1000,
               "cpu_us_per_msg": (cpu1 - cpu0) * 1e6 / n, "codes": rep["codes"], "failed": rep["failed"],
               "first_rejection": rep["first_rejection"], "peak_rss": proc_status(relay.proc.pid, "VmHWM")}
        time.sleep(0.2)
        res["verdicts"] = relay.verdicts()
        res.update(cond.finish())
        return res
    finally:
        relay.stop()
        sink.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mxgate", required=True, help="mxgate binary (a Release build)")
    ap.add_argument("--replay", required=True, help="smtp_replay binary (tests/bench/smtp_replay.cpp)")
    ap.add_argument("--workdir", default="bench-out-checks", help="spools, logs and results (on the real disk)")
    ap.add_argument("--tls-sink", help="tls_sink binary: the sink for smtp_replay's ceiling (else smtp-sink)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--concurrency", default="1,10,50")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--domains", type=int, default=10, help="sender domains (SPF, DKIM key, DMARC record each)")
    ap.add_argument("--signed", type=int, default=600, help="distinct signed messages (replayed in a cycle)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the message counts")
    ap.add_argument("--quick", action="store_true", help="one run, a quarter of the messages")
    ap.add_argument("--nice", type=int, default=0, help="nice increment for everything (e.g. -10)")
    args = ap.parse_args()
    # python3-dkim first: import_dkim() re-executes under Debian's python3 if needed.
    import_dkim()
    if args.quick:
        args.runs, args.scale = 1, args.scale / 4
    if args.nice:
        os.nice(args.nice)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if os.geteuid() != 0:
        sys.exit("checks_bench.py: needs root (unbound on port 53)")

    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    privkey, pubkey = make_key(workdir)
    msgfile = os.path.join(workdir, "signed-messages.txt")
    t = time.monotonic()
    build_messages(msgfile, args.signed, args.domains, args.size, privkey)
    log(f"{args.signed} messages signed in {time.monotonic() - t:.1f} s")

    # The SOA makes negative answers cacheable, as on real zones (RFC 2308).
    records = ["test. 300 SOA ns.test. hostmaster.test. 1 3600 600 86400 300"]
    for i in range(args.domains):
        d = f"sender{i}.test"
        records += [txt(d, "v=spf1 ip4:127.0.18.0/24 -all"),
                    txt(f"sel._domainkey.{d}", "v=DKIM1; k=rsa; p=" + pubkey),
                    txt(f"_dmarc.{d}", "v=DMARC1; p=reject; adkim=r; aspf=r")]
    dns = DnsServer(DNS[0], DNS[1], records=records, zones=["test."])
    dns.start()
    try:
        relays = {"checks-on": Relay(args.mxgate, workdir, "checks-on", ON, ON_SINK, POLICY_ON),
                  "checks-off": Relay(args.mxgate, workdir, "checks-off", OFF, OFF_SINK, POLICY_OFF)}
        for r in relays.values():
            r.setup()
        sinks = {k: Sink(r.sink_addr) for k, r in relays.items()}
        concs = [int(c) for c in args.concurrency.split(",") if c]

        def count(c):
            return max(100, int({1: 600, 10: 2000, 50: 3000}.get(c, 2000) * args.scale))

        info = {"machine": machine(), "disk": disk_of(workdir), "nice": args.nice, "runs": args.runs,
                "size": args.size, "domains": args.domains, "signed": args.signed,
                "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "replay_alone": {}, "cells": []}
        # The load generator's ceiling: the same messages into a sink that
        # does nothing else (tls_sink without STARTTLS: a thread per
        # connection; smtp-sink, one process, is slower at c=50 than the client).
        info["replay_alone_into"] = "tls_sink" if args.tls_sink else "smtp-sink"
        for c in concs:
            cond = Conditions().start()
            sink = start_replay_sink(args.tls_sink, workdir)
            try:
                rep = replay(args.replay, REPLAY_SINK, c, count(c), msgfile)
            finally:
                sink.stop()
            info["replay_alone"][c] = dict(rep, **cond.finish())
            log(f"smtp_replay alone into {info['replay_alone_into']}, c={c}: {rep['per_s']:.0f} msgs/s, "
                f"p99 {rep['p99_us']} µs")

        for c in concs:
            n = count(c)
            per = {k: [] for k in relays}
            for r in range(args.runs):
                order = list(relays) if r % 2 == 0 else list(reversed(relays))
                for k in order:
                    res = run_once(relays[k], sinks[k], args.replay, c, n, msgfile)
                    res["run"], res["position"] = r + 1, order.index(k) + 1
                    per[k].append(res)
                    log(f"c={c} run {r + 1} {k}: accepted {res['accepted_per_s']:.0f}/s, delivered "
                        f"{res['delivered_per_s']:.0f}/s, p50 {res['p50_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms, "
                        f"{res['cpu_us_per_msg']:.0f} µs CPU/msg ({res['runqueue_wait_us_per_msg']:.0f} µs waiting for a CPU), codes {res['codes']}, verdicts {res['verdicts']}, "
                        f"load {res['load_start'][0]}→{res['load_end'][0]}, steal {res['steal_pct']} %")
            cell = {"concurrency": c, "messages": n, "results": {}}
            for k, lst in per.items():
                cell["results"][k] = {
                    "runs": lst,
                    "accepted_per_s": med([x["accepted_per_s"] for x in lst]),
                    "delivered_per_s": med([x["delivered_per_s"] for x in lst]),
                    "p50_ms": med([x["p50_ms"] for x in lst]),
                    "p99_ms": med([x["p99_ms"] for x in lst]),
                    "cpu_us_per_msg": med([x["cpu_us_per_msg"] for x in lst]),
                }
            info["cells"].append(cell)
            with open(os.path.join(workdir, "results.json"), "w") as f:
                json.dump(info, f, indent=1)
        info["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump(info, f, indent=1)
        print(report(info))
    finally:
        dns.stop()


def report(info):
    out = [f"machine: {info['machine']}; disk: {info['disk']}; {info['runs']} run(s), nice {info['nice']}, "
           f"{info['size']}-byte messages from {info['domains']} sender domains ({info['signed']} signed); "
           f"started {info['started']}",
           f"smtp_replay alone (into {info.get('replay_alone_into', 'smtp-sink')}): " + ", ".join(
               f"c={c} {v['per_s']:.0f} msgs/s" for c, v in info["replay_alone"].items()), "",
           "| conc | mxgate | accepted msgs/s | delivered msgs/s | p50 accept ms | p99 accept ms | CPU µs/msg "
           "| waiting for a CPU µs/msg | replies (all runs) |", "|---|---|---|---|---|---|---|---|---|"]
    for cell in info["cells"]:
        for k, r in cell["results"].items():
            codes = {}
            for x in r["runs"]:
                for code, cnt in x["codes"].items():
                    codes[code] = codes.get(code, 0) + cnt
            out.append(f"| {cell['concurrency']} | {k} | {r['accepted_per_s']:.0f} | {r['delivered_per_s']:.0f} | "
                       f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['cpu_us_per_msg']:.0f} | "
                       f"{med([x.get('runqueue_wait_us_per_msg') for x in r['runs']]) or 0:.0f} | "
                       + ", ".join(f"{c}×{v}" for c, v in sorted(codes.items())) + " |")
    for cell in info["cells"]:
        on, off = cell["results"].get("checks-on"), cell["results"].get("checks-off")
        if on and off:
            ratios = [a["accepted_per_s"] / b["accepted_per_s"] for a, b in zip(on["runs"], off["runs"])]
            out.append(f"- c={cell['concurrency']}: checks on / off accepted msgs/s per run "
                       + ", ".join(f"{x:.2f}" for x in ratios)
                       + f"; medians {on['accepted_per_s'] / off['accepted_per_s']:.2f}; "
                       f"CPU per message {on['cpu_us_per_msg'] / off['cpu_us_per_msg']:.2f}x")
    out.append("- conditions per run (load 1-min start→end, steal %): " + "; ".join(
        f"c={cell['concurrency']} {k} run {x['run']}: {x['load_start'][0]}→{x['load_end'][0]}, {x['steal_pct']}"
        for cell in info["cells"] for k, r in cell["results"].items() for x in r["runs"]))
    return "\n".join(out)


if __name__ == "__main__":
    main()
