"""benchlib.py — helpers shared by the benchmark drivers in tests/bench/.

Not a test; never run by ctest (STYLE.md §3). Standard library only.

  * processes: wait_port, raise_nofile, /proc readers (CPU times, RSS, PSS,
    children), RssSampler, machine conditions (load average, steal time);
  * peers: Sink (Postfix's smtp-sink, counting messages);
  * relays: MxgateProcess (an mxgate serve with a config written by the
    driver), PostfixInstance (a private Postfix: its own config directory,
    queue and data directory, started as root with mail_owner = postfix).

relay_bench.py, outbound_tls_bench.py and checks_bench.py use them; see
docs/performance*.md.
"""

import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
NOFILE = 20000  # 10,000 idle sessions plus files; ≤ the hard limit here

# One master.cf for every private Postfix (tests/integration/lib/postfix.py):
# the listener names its address, so inet_interfaces need not hold a
# 127.x address that is not an interface address; chroot is off.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from lib.postfix import MASTER_CF  # noqa: E402,F401


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


class MxgateProcess:
    """`mxgate serve` in DIR with the config a driver wrote (write_config);
    the spool and log are removed before every start, so each run is fresh."""

    def __init__(self, binary, directory, listen):
        self.bin = os.path.abspath(binary)
        self.dir = directory
        self.listen = listen
        self.config = os.path.join(self.dir, "mxgate.yaml")
        self.proc = None
        self._err = None

    def write_config(self, text):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        with open(self.config, "w") as f:
            f.write(text)

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
        if self._err:
            self._err.close()
            self._err = None

    def pids(self):
        return [self.proc.pid] if self.proc and self.proc.poll() is None else []

    def cpu(self):
        return proc_times(self.proc.pid)

    def queued(self):
        n = 0
        for sub in ("incoming", "queue"):
            try:
                n += sum(1 for e in os.listdir(os.path.join(self.dir, "spool", sub)) if not e.endswith(".state"))
            except FileNotFoundError:
                pass
        return n


class PostfixInstance:
    """A private Postfix in DIR (etc/, spool/, data/) listening on `listen`
    (named in master.cf). setup(main_cf) writes a fresh instance."""

    def __init__(self, directory, listen):
        self.dir = directory
        self.etc = os.path.join(self.dir, "etc")
        self.listen = listen

    def setup(self, main_cf, master_cf=None):
        self._postfix("stop", check=False, quiet=True)  # a leftover from an interrupted run
        self._wait_master_gone()
        shutil.rmtree(self.dir, ignore_errors=True)
        for d in ("etc", "spool", "data"):
            os.makedirs(os.path.join(self.dir, d))
        shutil.chown(os.path.join(self.dir, "data"), "postfix", "postfix")
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(main_cf)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(master_cf if master_cf is not None
                    else MASTER_CF.format(address=self.listen[0], port=self.listen[1]))
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

    def queued(self):
        n = 0
        for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _, _, files in os.walk(os.path.join(self.dir, "spool", sub)):
                n += len(files)
        return n


# ---------------------------------------------------------------- machine

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


def cpu_stat():
    """The aggregate "cpu" line of /proc/stat: (total ticks, steal ticks)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    vals = [int(v) for v in fields[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice;
    # guest time is already counted in user/nice.
    return sum(vals[:8]), vals[7] if len(vals) > 7 else 0


class Conditions:
    """Load average and CPU steal over an interval (a shared VM): start()
    then finish() gives {load_start, load_end, steal_pct} for the results."""

    def start(self):
        self.load_start = os.getloadavg()
        self._t0, self._s0 = cpu_stat()
        return self

    def finish(self):
        t1, s1 = cpu_stat()
        total = max(1, t1 - self._t0)
        return {"load_start": [round(x, 2) for x in self.load_start],
                "load_end": [round(x, 2) for x in os.getloadavg()],
                "steal_pct": round(100.0 * (s1 - self._s0) / total, 1)}


def sched_wait(pids):
    """Seconds the threads of PIDS have spent runnable but waiting for a
    CPU (the second field of /proc/PID/task/TID/schedstat), summed; the
    threads of processes that have exited are not counted."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return total / 1e9
