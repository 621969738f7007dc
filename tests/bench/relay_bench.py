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
"""

import argparse
import json
import os
import platform
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

MX = ("127.0.8.1", 2525)
MX_SINK = ("127.0.8.2", 2526)
PF = ("127.0.8.3", 2525)
PF_SINK = ("127.0.8.4", 2526)
SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
NOFILE = 20000  # 10,000 idle sessions plus files; ≤ the hard limit here
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

# One master.cf for every private Postfix (tests/integration/lib/postfix.py):
# the listener names its address, so inet_interfaces need not hold 127.0.8.3
# (not an interface address here); chroot is off.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from lib.postfix import MASTER_CF  # noqa: E402


def log(msg):
    sys.stderr.write(time.strftime("%H:%M:%S ") + msg + "\n")
    sys.stderr.flush()


def wait_port(addr, timeout=20.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}) before {addr} listened")
        try:
            with socket.create_connection(addr, timeout=1.0) as s:
                s.recv(512)  # the greeting: the server is really serving
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{addr} did not accept within {timeout}s")


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(NOFILE, hard) if hard != resource.RLIM_INFINITY else NOFILE
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))


# ---------------------------------------------------------------- /proc

def proc_times(pid, children=False):
    """utime+stime (and cutime+cstime) in seconds, or 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields[0] is state (field 3); utime is field 14 → index 11.
    t = int(fields[11]) + int(fields[12])
    if children:
        t += int(fields[13]) + int(fields[14])
    return t / CLK_TCK


def proc_status(pid, key):
    """A kB value from /proc/PID/status (VmRSS, VmHWM), in bytes; 0 if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def proc_pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def children_of(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                out.append(int(d))
        except OSError:
            continue
    return out


class RssSampler:
    """Samples the sum of VmRSS (and PSS) over a system's processes."""

    def __init__(self, system, interval=0.2):
        self.system, self.interval = system, interval
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            pids = self.system.pids()
            self.peak_rss = max(self.peak_rss, sum(proc_status(p, "VmRSS") for p in pids))
            self.peak_pss = max(self.peak_pss, sum(proc_pss(p) for p in pids))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


# ---------------------------------------------------------------- peers

class Sink:
    """Postfix's smtp-sink; counts completed DATA transactions (-c)."""

    def __init__(self, addr):
        self.addr = addr
        self.proc = None
        self.count = 0
        self._reader = None

    def cmd(self):
        return [SMTP_SINK, "-u", "nobody", "-c", f"{self.addr[0]}:{self.addr[1]}", "1024"]

    def start(self):
        self.count = 0
        self.proc = subprocess.Popen(self.cmd(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_port(self.addr, proc=self.proc)
        # wait_port's probe is a session, not a message: mesg stays 0.
        return self

    def _read(self):
        # smtp-sink -c rewrites "sess=N quit=N mesg=N\r" after each event.
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                return
            buf += chunk
            parts = buf.split(b"\r")
            buf = parts[-1]
            for p in reversed(parts[:-1]):
                i = p.rfind(b"mesg=")
                if i >= 0:
                    try:
                        self.count = int(p[i + 5:].split()[0])
                    except ValueError:
                        continue
                    break

    def wait(self, n, timeout):
        deadline = time.monotonic() + timeout
        while self.count < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"sink {self.addr} counted {self.count} of {n} messages in {timeout}s")
            time.sleep(0.005)
        return time.monotonic()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._reader:
            self._reader.join(2)


class MxgateSystem:
    name = "mxgate"
    listen = MX
    sink_addr = MX_SINK

    def __init__(self, binary, workdir, conns=2000):
        self.bin = os.path.abspath(binary)
        self.dir = os.path.join(workdir, "mxgate")
        self.conns = conns
        self.proc = None

    def setup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.config = os.path.join(self.dir, "mxgate.yaml")
        with open(self.config, "w") as f:
            f.write(MXGATE_CONFIG.format(dir=self.dir, mx_host=MX[0], mx_port=MX[1], sink_host=MX_SINK[0],
                                         sink_port=MX_SINK[1], conns=self.conns))

    def command(self):
        return [self.bin, "serve", "-c", self.config]

    def start(self):
        shutil.rmtree(os.path.join(self.dir, "spool"), ignore_errors=True)
        try:
            os.unlink(os.path.join(self.dir, "mxgate.log"))
        except FileNotFoundError:
            pass
        self._err = open(os.path.join(self.dir, "stderr.txt"), "ab")
        self.proc = subprocess.Popen(self.command(), stdout=self._err, stderr=self._err, cwd=self.dir,
                                     preexec_fn=raise_nofile)
        wait_port(self.listen, proc=self.proc)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()

    def pids(self):
        return [self.proc.pid] if self.proc and self.proc.poll() is None else []

    def cpu(self):
        return proc_times(self.proc.pid)

    def peak_rss(self, sampler):
        return proc_status(self.proc.pid, "VmHWM")

    def queued(self):
        n = 0
        for sub in ("incoming", "queue"):
            try:
                n += sum(1 for e in os.listdir(os.path.join(self.dir, "spool", sub)) if not e.endswith(".state"))
            except FileNotFoundError:
                pass
        return n


class PostfixSystem:
    name = "postfix"
    listen = PF
    sink_addr = PF_SINK

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "postfix")
        self.etc = os.path.join(self.dir, "etc")

    def setup(self):
        self._postfix("stop", check=False, quiet=True)  # a leftover from an interrupted run
        self._wait_master_gone()
        shutil.rmtree(self.dir, ignore_errors=True)
        for d in ("etc", "spool", "data"):
            os.makedirs(os.path.join(self.dir, d))
        shutil.chown(os.path.join(self.dir, "data"), "postfix", "postfix")
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN.format(dir=self.dir, sink_host=PF_SINK[0], sink_port=PF_SINK[1]))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(address=PF[0], port=PF[1]))
        r = self._postfix("check", check=False)
        if r.returncode != 0:
            raise RuntimeError("postfix check failed: " + r.stdout + r.stderr)

    def _postfix(self, verb, check=True, quiet=False):
        # The postfix command reports on stderr only when it is a terminal;
        # its complaints are in maillog otherwise.
        return subprocess.run(["postfix", "-c", self.etc, verb], capture_output=True, text=True, check=check,
                              timeout=60)

    def master_pid(self):
        try:
            with open(os.path.join(self.dir, "spool", "pid", "master.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def _wait_master_gone(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.master_pid() is None:
                return
            time.sleep(0.1)
        raise TimeoutError("postfix master did not stop")

    def start(self):
        for stale in (os.path.join(self.dir, "data", "master.lock"),
                      os.path.join(self.dir, "spool", "pid", "master.pid")):
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass
        r = self._postfix("start", check=False)
        if r.returncode != 0:
            raise RuntimeError("postfix start failed (see " + os.path.join(self.dir, "maillog") + ")")
        wait_port(self.listen)

    def stop(self):
        self._postfix("stop", check=False)
        self._wait_master_gone()

    def pids(self):
        m = self.master_pid()
        return [m] + children_of(m) if m else []

    def cpu(self):
        m = self.master_pid()
        if m is None:
            return 0.0
        # master's cutime/cstime hold the children it has reaped.
        return proc_times(m, children=True) + sum(proc_times(p) for p in children_of(m))

    def peak_rss(self, sampler):
        return sampler.peak_rss

    def queued(self):
        n = 0
        for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _, _, files in os.walk(os.path.join(self.dir, "spool", sub)):
                n += len(files)
        return n


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


def machine():
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(mem / 2**30, 1), "kernel": platform.release()}


def disk_of(path):
    r = subprocess.run(["df", "-hT", path], capture_output=True, text=True)
    return r.stdout.strip().splitlines()[-1] if r.returncode == 0 else "?"


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


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
