#!/usr/bin/env python3
"""relay_bench.py — end-to-end relay benchmark: mxgate vs a private Postfix.

Not a test: never run by ctest (STYLE.md §3). Results and the exact
commands: docs/performance.md.

    smtp-source ─▶ mxgate  127.0.8.1:2525 ─▶ smtp-sink 127.0.8.2:2526
    smtp-source ─▶ Postfix 127.0.8.3:2525 ─▶ smtp-sink 127.0.8.4:2526

Both relays run with the same durability: each fsyncs the queue file
before its 250 (mxgate also fsyncs the queue directory). Neither does
TLS, content filtering or local delivery. Both log to a file.

For every cell (message size × concurrency) and run, mxgate and Postfix
are measured back to back, each started fresh:

  throughput  smtp-source -s C -m N -l SIZE (one message per connection);
              delivered msgs/s = N / (time from the start of smtp-source
              until that relay's smtp-sink has counted N messages)
  CPU         utime+stime of the relay's processes over that phase, after
              the queue drained, divided by N (mxgate: /proc/PID/stat;
              Postfix: master's own + reaped children's times plus every
              live child's, which counts processes that exited too)
  peak RSS    mxgate: VmHWM. Postfix: the largest sum of VmRSS over master
              and its children, sampled every 0.2 s (shared pages such as
              libc are counted once per process); PSS sum sampled likewise
  latency     smtp_latency (tests/bench/smtp_latency.cpp): C threads, one
              message per connection, time from sending the final
              "\\r\\n.\\r\\n" to reading the 250; p99 over M messages,
              after the throughput phase, same relay instance

Then, for mxgate only, 10,000 idle sessions: connections that read the
greeting and stay silent; mxgate's VmRSS with all of them connected.

Needs root (Postfix's master runs as root, mail_owner = postfix), Postfix
(postfix, smtp-source, smtp-sink) and loopback 127.0.8.0/24.

    relay_bench.py --mxgate build-bench/mxgate --latency-bin build-bench/tests/bench/smtp_latency
    relay_bench.py ... --quick           one run per cell, fewer messages

Process, /proc, sink and Postfix helpers are shared with the other drivers
in benchlib.py.
"""

import argparse
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time

from benchlib import (SMTP_SINK, SMTP_SOURCE, MxgateProcess, PostfixInstance, RssSampler, Sink, disk_of, log,
                      machine, med, proc_status, raise_nofile)

MX = ("127.0.8.1", 2525)
MX_SINK = ("127.0.8.2", 2526)
PF = ("127.0.8.3", 2525)
PF_SINK = ("127.0.8.4", 2526)
FROM = "bench@source.test"
RCPT = "user@bench.test"

MXGATE_CONFIG = """\
hostname: mx.bench.test
spool: {dir}/spool
log: {{ format: json, level: info, file: {dir}/mxgate.log }}
listeners:
  - {{ name: mx, role: mx, address: "{mx_host}:{mx_port}", tls: none }}
dns: {{ resolver: system }}
domains:
  - name: bench.test
    recipients: ["@bench.test"]
    downstream: {{ address: "{sink_host}:{sink_port}", tls: none }}
# This test is about relaying, not sender authentication (SPEC §6 has its own test).
policy: {{ spf: {{ enabled: false }}, dkim: {{ verify: false }}, dmarc: {{ enforce: false }} }}
limits: {{ connections: {conns}, connections_per_ip: {conns} }}
"""

POSTFIX_MAIN = """\
# Private Postfix instance for relay_bench.py: a relay for bench.test only,
# equivalent to the mxgate config (no TLS, no filters, no local delivery).
# Queue files are fsync'ed before the 250 (Postfix's default).
compatibility_level = 3.6
queue_directory = {dir}/spool
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.bench.test
mydomain = bench.test
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = bench.test
transport_maps = inline:{{ bench.test=smtp:[{sink_host}]:{sink_port} }}
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
smtpd_tls_security_level = none
smtp_tls_security_level = none
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
biff = no
"""

# ---------------------------------------------------------------- relays

class MxgateSystem(MxgateProcess):
    name = "mxgate"
    sink_addr = MX_SINK

    def __init__(self, binary, workdir, conns=2000):
        super().__init__(binary, os.path.join(workdir, "mxgate"), MX)
        self.conns = conns

    def setup(self):
        self.write_config(MXGATE_CONFIG.format(dir=self.dir, mx_host=MX[0], mx_port=MX[1], sink_host=MX_SINK[0],
                                               sink_port=MX_SINK[1], conns=self.conns))

    def peak_rss(self, sampler):
        return proc_status(self.proc.pid, "VmHWM")


class PostfixSystem(PostfixInstance):
    name = "postfix"
    sink_addr = PF_SINK

    def __init__(self, workdir):
        super().__init__(os.path.join(workdir, "postfix"), PF)

    def setup(self):
        super().setup(POSTFIX_MAIN.format(dir=self.dir, sink_host=PF_SINK[0], sink_port=PF_SINK[1]))

    def peak_rss(self, sampler):
        return sampler.peak_rss


# ---------------------------------------------------------------- runs

def smtp_source_cmd(addr, conc, n, size):
    return [SMTP_SOURCE, "-s", str(conc), "-m", str(n), "-l", str(size), "-f", FROM, "-t", RCPT,
            f"{addr[0]}:{addr[1]}"]


def run_once(system, sink, latency_bin, size, conc, n, lat_n, timeout):
    sink.start()
    system.start()
    try:
        time.sleep(0.5)
        cpu0 = system.cpu()
        with RssSampler(system) as sampler:
            t0 = time.monotonic()
            src = subprocess.run(smtp_source_cmd(system.listen, conc, n, size), capture_output=True, text=True,
                                 timeout=timeout)
            t_src = time.monotonic()
            if src.returncode != 0:
                raise RuntimeError(f"smtp-source failed: {src.stderr.strip()[-500:]}")
            t_del = sink.wait(n, timeout)
            deadline = time.monotonic() + 30
            while system.queued() and time.monotonic() < deadline:
                time.sleep(0.02)
            cpu1 = system.cpu()
            peak = system.peak_rss(sampler)
            peak_pss = sampler.peak_pss
        lat = None
        if lat_n and latency_bin:
            r = subprocess.run([latency_bin, system.listen[0], str(system.listen[1]), str(conc), str(lat_n),
                                str(size), RCPT], capture_output=True, text=True, timeout=timeout)
            lat = json.loads(r.stdout) if r.stdout.strip() else None
            if r.returncode != 0:
                log(f"  latency client: {r.stderr.strip()[-300:]} {r.stdout.strip()}")
        return {
            "delivered_per_s": n / (t_del - t0),
            "accepted_per_s": n / (t_src - t0),
            "cpu_us_per_msg": (cpu1 - cpu0) * 1e6 / n,
            "peak_rss": peak,
            "peak_pss": peak_pss,
            "p99_ms": lat["p99_us"] / 1000 if lat else None,
            "p50_ms": lat["p50_us"] / 1000 if lat else None,
            "latency": lat,
            "load": os.getloadavg()[0],
        }
    finally:
        system.stop()
        sink.stop()


def idle_sessions(mxgate_bin, workdir, count, timeout=120.0):
    """mxgate's VmRSS with COUNT connected sessions that only read the greeting."""
    system = MxgateSystem(mxgate_bin, os.path.join(workdir, "idle"), conns=max(2000, count + 100))
    system.setup()
    sink = Sink(MX_SINK)
    sink.start()
    system.start()
    socks = []
    sel = selectors.DefaultSelector()
    try:
        time.sleep(0.5)
        base = proc_status(system.proc.pid, "VmRSS")
        greeted = 0
        deadline = time.monotonic() + timeout
        batch = 500  # below the listen backlog (1024)
        while greeted < count and time.monotonic() < deadline:
            pending = {}
            for _ in range(min(batch, count - len(socks))):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex(MX)
                socks.append(s)
                pending[s.fileno()] = b""
                sel.register(s, selectors.EVENT_READ)
            while pending and time.monotonic() < deadline:
                for key, _ in sel.select(1.0):
                    s = key.fileobj
                    try:
                        data = s.recv(512)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    fd = s.fileno()
                    buf = pending.get(fd, b"") + data
                    if not data or b"\r\n" in buf:
                        sel.unregister(s)
                        pending.pop(fd, None)
                        if buf.startswith(b"220"):
                            greeted += 1
                        else:
                            raise RuntimeError(f"session {len(socks)}: no greeting: {buf[:100]!r}")
                    else:
                        pending[fd] = buf
        time.sleep(2.0)
        rss = proc_status(system.proc.pid, "VmRSS")
        hwm = proc_status(system.proc.pid, "VmHWM")
        alive = system.proc.poll() is None
        return {"sessions": greeted, "base_rss": base, "rss": rss, "hwm": hwm, "alive": alive,
                "per_session_kib": (rss - base) / 1024 / max(1, greeted)}
    finally:
        for s in socks:
            s.close()
        system.stop()
        sink.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mxgate", required=True, help="mxgate binary (a Release build)")
    ap.add_argument("--latency-bin", help="smtp_latency binary (tests/bench/smtp_latency.cpp)")
    ap.add_argument("--workdir", default="bench-out", help="spools, logs and results (on the real disk)")
    ap.add_argument("--quick", action="store_true", help="one run per cell, fewer messages")
    ap.add_argument("--runs", type=int, help="runs per cell (default 3; --quick: 1)")
    ap.add_argument("--sizes", default="4096,102400")
    ap.add_argument("--concurrency", default="1,10,50")
    ap.add_argument("--systems", default="mxgate,postfix")
    ap.add_argument("--idle", type=int, default=10000, help="idle sessions (0: skip)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the message counts")
    ap.add_argument("--nice", type=int, default=0,
                    help="nice increment for the whole run (relays, sinks, clients inherit it); e.g. -10 on a "
                         "shared machine so other people's builds disturb both relays less")
    args = ap.parse_args()
    if args.nice:
        os.nice(args.nice)
    # SIGTERM unwinds like ^C, so the relays and sinks of the current run are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if os.geteuid() != 0:
        sys.exit("relay_bench.py: needs root (a private Postfix instance is started)")
    for b in (SMTP_SOURCE, SMTP_SINK, shutil.which("postfix")):
        if not b or not os.access(b, os.X_OK):
            sys.exit(f"relay_bench.py: missing {b} (Debian package postfix)")
    raise_nofile()
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    runs = args.runs or (1 if args.quick else 3)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    concs = [int(c) for c in args.concurrency.split(",") if c]
    names = [s for s in args.systems.split(",") if s]

    def counts(size, conc):
        """(throughput messages, latency messages) per run."""
        big = size > 16384
        n = {1: 400 if big else 800, 10: 1500 if big else 3000, 50: 1500 if big else 4000}.get(conc, 2000)
        lat = {1: 200, 10: 500, 50: 1000}.get(conc, 500)
        if args.quick:
            n, lat = n // 4, lat // 2
        return max(50, int(n * args.scale)), max(20, int(lat * args.scale))

    systems = {}
    if "mxgate" in names:
        systems["mxgate"] = MxgateSystem(args.mxgate, workdir)
    if "postfix" in names:
        systems["postfix"] = PostfixSystem(workdir)
    for s in systems.values():
        s.setup()
    sinks = {"mxgate": Sink(MX_SINK), "postfix": Sink(PF_SINK)}

    info = {"machine": machine(), "disk": disk_of(workdir), "load_start": os.getloadavg(), "nice": args.nice,
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "runs": runs, "quick": args.quick,
            "commands": {}, "cells": []}
    log(f"machine {info['machine']} disk {info['disk']} load {info['load_start']}")
    for size in sizes:
        for conc in concs:
            n, lat_n = counts(size, conc)
            cell = {"size": size, "concurrency": conc, "messages": n, "latency_messages": lat_n, "results": {}}
            per = {k: [] for k in systems}
            for r in range(runs):
                # Alternate who goes first, so drift in background load hits both.
                order = list(systems) if r % 2 == 0 else list(reversed(systems))
                for k in order:
                    sys_ = systems[k]
                    res = run_once(sys_, sinks[k], args.latency_bin, size, conc, n, lat_n, timeout=600)
                    per[k].append(res)
                    log(f"size={size} c={conc} run={r + 1} {k}: {res['delivered_per_s']:.0f} msgs/s delivered, "
                        f"{res['accepted_per_s']:.0f} accepted, {res['cpu_us_per_msg']:.0f} µs CPU/msg, "
                        f"p99 {res['p99_ms']} ms, peak RSS {res['peak_rss'] / 2**20:.1f} MiB, "
                        f"load {res['load']:.2f}")
            for k, lst in per.items():
                cell["results"][k] = {
                    "runs": lst,
                    "delivered_per_s": med([x["delivered_per_s"] for x in lst]),
                    "accepted_per_s": med([x["accepted_per_s"] for x in lst]),
                    "cpu_us_per_msg": med([x["cpu_us_per_msg"] for x in lst]),
                    "p99_ms": med([x["p99_ms"] for x in lst]),
                    "p50_ms": med([x["p50_ms"] for x in lst]),
                    "peak_rss": max(x["peak_rss"] for x in lst),
                    "peak_pss": max(x["peak_pss"] for x in lst),
                }
            cell["source_commands"] = {k: " ".join(smtp_source_cmd(systems[k].listen, conc, n, size))
                                       for k in systems}
            info["cells"].append(cell)
            with open(os.path.join(workdir, "results.json"), "w") as f:
                json.dump(info, f, indent=1)

    if args.idle and "mxgate" in systems:
        log(f"idle sessions: {args.idle}")
        info["idle"] = idle_sessions(args.mxgate, workdir, args.idle)
        log(f"idle: {info['idle']}")
    info["load_end"] = os.getloadavg()
    info["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    info["commands"] = {
        "mxgate": " ".join(systems["mxgate"].command()) if "mxgate" in systems else None,
        "postfix": f"postfix -c {systems['postfix'].etc} start" if "postfix" in systems else None,
        "sink": " ".join(Sink(MX_SINK).cmd()),
    }
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(report(info))


def report(info):
    out = []
    out.append(f"machine: {info['machine']}; disk: {info['disk']}")
    out.append(f"nice {info.get('nice', 0)}; load average at start {info['load_start']}, at end {info.get('load_end')}; "
               f"{info['runs']} run(s) per cell, medians")
    out.append("")
    out.append("| size | conc | relay | delivered msgs/s | accepted msgs/s | p99 accept ms | p50 accept ms "
               "| CPU µs/msg | peak RSS MiB |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for c in info["cells"]:
        for k, r in c["results"].items():
            p99 = f"{r['p99_ms']:.1f}" if r["p99_ms"] is not None else "–"
            p50 = f"{r['p50_ms']:.1f}" if r["p50_ms"] is not None else "–"
            rss = f"{r['peak_rss'] / 2**20:.1f}"
            if k == "postfix":
                rss += f" (PSS {r['peak_pss'] / 2**20:.1f})"
            out.append(f"| {c['size'] // 1024} KiB | {c['concurrency']} | {k} | {r['delivered_per_s']:.0f} | "
                       f"{r['accepted_per_s']:.0f} | {p99} | {p50} | {r['cpu_us_per_msg']:.0f} | {rss} |")
    for c in info["cells"]:
        r = c["results"]
        if "mxgate" in r and "postfix" in r:
            out.append(f"- {c['size'] // 1024} KiB c={c['concurrency']}: mxgate/Postfix delivered "
                       f"{r['mxgate']['delivered_per_s'] / r['postfix']['delivered_per_s']:.2f}x, CPU per message "
                       f"{r['mxgate']['cpu_us_per_msg'] / r['postfix']['cpu_us_per_msg']:.2f}x")
    if "idle" in info:
        i = info["idle"]
        out.append(f"- idle sessions: {i['sessions']} connected, mxgate VmRSS {i['rss'] / 2**20:.1f} MiB "
                   f"(before: {i['base_rss'] / 2**20:.1f} MiB; {i['per_session_kib']:.1f} KiB/session)")
    return "\n".join(out)


if __name__ == "__main__":
    main()
