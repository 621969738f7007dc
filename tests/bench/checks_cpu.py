#!/usr/bin/env python3
"""checks_cpu.py — CPU per message of one mxgate with the inbound checks on
or off (or one check alone), for profiling and before/after comparisons
on a busy machine (docs/performance-checks.md, "Cutting the checks' CPU").

Not a test: never run by ctest (STYLE.md §3). Uses checks_bench.py's zone,
messages and relay config on its own loopback range (default 127.0.22.x),
so it can run beside checks_bench.py (127.0.18.x).

    checks_cpu.py MODE C N [--reps 3] [--mxgate BIN] [--replay BIN]
                  [--perf FILE] [--strace FILE]
    MODE: on | off | spf | dkim | spfdkim

Per run: a fresh mxgate (empty spool) and smtp-sink; smtp_replay sends N
pre-signed messages at concurrency C; printed as one JSON line: CPU µs/msg
(utime+stime of mxgate from the first message until its queue is empty,
÷ N), msgs/s, p50/p99, reply codes, voluntary and involuntary context
switches per message (all mxgate threads), load average. --perf records
`perf record --call-graph $CG (fp; dwarf for libraries without frame
pointers) -p PID` over the run; --strace runs `$STRACE` (default
"strace -c -f") attached over the run.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks_bench as cb  # noqa: E402
from benchlib import Sink  # noqa: E402

POLICIES = {
    "on": cb.POLICY_ON,
    "off": cb.POLICY_OFF,
    "spf": "policy: { spf: { enabled: true }, dkim: { verify: false }, dmarc: { enforce: false } }",
    "dkim": "policy: { spf: { enabled: false }, dkim: { verify: true }, dmarc: { enforce: false } }",
    "spfdkim": "policy: { spf: { enabled: true }, dkim: { verify: true }, dmarc: { enforce: false } }",
}


def ctx_switches(pid):
    vol = inv = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        inv += int(line.split()[1])
        except OSError:
            pass
    return vol, inv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=sorted(POLICIES))
    ap.add_argument("c", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--net", default="127.0.22", help="first three octets of the loopback range")
    ap.add_argument("--mxgate", default="build/mxgate")
    ap.add_argument("--replay", default="build/tests/bench/smtp_replay")
    ap.add_argument("--workdir", default="build/checks-cpu")
    ap.add_argument("--perf")
    ap.add_argument("--strace")
    a = ap.parse_args()
    net = a.net
    cb.ON, cb.ON_SINK, cb.CLIENT, cb.DNS = (f"{net}.1", 2525), (f"{net}.3", 2526), f"{net}.10", (f"{net}.53", 53)
    cb.import_dkim()
    workdir = os.path.abspath(a.workdir)
    os.makedirs(workdir, exist_ok=True)
    msgfile, pubfile = os.path.join(workdir, "signed-messages.txt"), os.path.join(workdir, "pubkey.txt")
    if not os.path.exists(msgfile):
        priv, pub = cb.make_key(workdir)
        cb.build_messages(msgfile, 600, 10, 4096, priv)
        with open(pubfile, "w") as f:
            f.write(pub)
    with open(pubfile) as f:
        pubkey = f.read()
    records = ["test. 300 SOA ns.test. hostmaster.test. 1 3600 600 86400 300"]
    for i in range(10):
        d = f"sender{i}.test"
        records += [cb.txt(d, f"v=spf1 ip4:{net}.0/24 -all"), cb.txt(f"sel._domainkey.{d}", "v=DKIM1; k=rsa; p=" + pubkey),
                    cb.txt(f"_dmarc.{d}", "v=DMARC1; p=reject; adkim=r; aspf=r")]
    dns = cb.DnsServer(cb.DNS[0], cb.DNS[1], records=records, zones=["test."])
    dns.start()
    try:
        relay = cb.Relay(os.path.abspath(a.mxgate), workdir, "relay-" + a.mode, cb.ON, cb.ON_SINK, POLICIES[a.mode])
        relay.setup()
        sink = Sink(cb.ON_SINK)
        cpus = []
        for _ in range(a.reps):
            sink.start()
            relay.start()
            try:
                time.sleep(0.5)
                pid = relay.proc.pid
                tool = None
                if a.perf:
                    tool = subprocess.Popen(["perf", "record", "--call-graph", os.environ.get("CG", "fp"), "-F", "999",
                                             "-o", a.perf, "-p", str(pid)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                elif a.strace:
                    tool = subprocess.Popen(os.environ.get("STRACE", "strace -c -f").split() + ["-o", a.strace, "-p", str(pid)],
                                            stderr=subprocess.DEVNULL)
                if tool:
                    time.sleep(1.0)
                cpu0, (v0, i0) = relay.cpu(), ctx_switches(pid)
                r = cb.replay(os.path.abspath(a.replay), cb.ON, a.c, a.n, msgfile)
                sink.wait(r["accepted"], 120)
                deadline = time.monotonic() + 30
                while relay.queued() and time.monotonic() < deadline:
                    time.sleep(0.02)
                cpu1, (v1, i1) = relay.cpu(), ctx_switches(pid)
                if tool:
                    tool.send_signal(signal.SIGINT)
                    tool.wait(60)
                res = {"mode": a.mode, "c": a.c, "n": a.n, "cpu_us_per_msg": round((cpu1 - cpu0) * 1e6 / a.n),
                       "per_s": r["per_s"], "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
                       "codes": r["codes"], "vcsw_per_msg": (v1 - v0) / a.n, "ivcsw_per_msg": (i1 - i0) / a.n,
                       "load": os.getloadavg()[0]}
                cpus.append(res["cpu_us_per_msg"])
                print(json.dumps(res), flush=True)
            finally:
                relay.stop()
                sink.stop()
            print("verdicts", relay.verdicts(), flush=True)
        cpus.sort()
        print(f"median {a.mode} c={a.c} n={a.n}: {cpus[len(cpus) // 2]} µs CPU/msg (runs {cpus})")
    finally:
        dns.stop()


if __name__ == "__main__":
    main()
