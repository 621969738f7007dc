"""Crash durability (SPEC §4): a 250 to end of data survives a power cut.

Several clients submit messages in a loop while mxgate runs with its spool
on ext4 mounted from a loop image (lib/crash_fs.py). At a random moment the
test SIGKILLs mxgate and immediately copies the image without syncing: that
copy is the disk as a power cut would leave it. The copy is mounted (journal
replay), mxgate starts on it and the next round begins. At the end the queue
is drained, and every (token, recipient) that got `250 2.0.0 Ok: queued as
ID` must have reached a home box, before a cut or after the restart.
Duplicates are allowed (a delivery in flight at the cut repeats); losses are
not.

Recipients are on two domains: fast.test, whose home box is always up (most
messages are delivered before the next cut, the delivery/remove path is
exercised), and slow.test, whose home box is down until the final drain, so
those messages must survive every later cut too.

  --eatmydata   run mxgate under eatmydata (fsync is a no-op): this mode
                must report losses; test_crash_detects_eatmydata.py checks
                that it does, which shows this test can fail.
  --plain-kill  no image copy: SIGKILL only, same file system. Shows why the
                copy is needed (under eatmydata this loses nothing).

Output ends with `RESULT: mode=... rounds=R acked=A pairs=P lost=L` and
`N passed, M failed`. Exit: 0 no loss, 1 a loss (or another check failed),
2 the harness itself broke, 77 skipped (not root, no loop mounts).
Addresses: 127.0.9.x (see --host-base). See docs/durability.md.
"""

import argparse
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import traceback
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from lib.crash_fs import LoopFs, LoopUnavailable  # noqa: E402
from lib.harness import MXGATE_BIN, CaptureSink, Mxgate, RawSmtp, require, skip, wait_port  # noqa: E402

# Addresses 127.0.9.(base+1..3) and clients from 127.0.9.(base+20); the
# eatmydata run (test_crash_detects_eatmydata.py) uses --host-base 100 so the
# two ctest entries can run in parallel.
MX = FAST = SLOW = None
CLIENT_BASE = 20

CONFIG = """
hostname: mx.crash.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "MX_ADDR", tls: none }
domains:
  - name: fast.test
    recipients: ["@fast.test"]
    downstream: { address: "FAST_ADDR", tls: none }
  - name: slow.test
    recipients: ["@slow.test"]
    downstream: { address: "SLOW_ADDR", tls: none }
# This test is about relaying, not sender authentication (SPEC §6 has its own test).
policy: { spf: { enabled: false }, dkim: { verify: false }, dmarc: { enforce: false } }
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
"""


def set_addresses(base):
    global MX, FAST, SLOW, CLIENT_BASE, CONFIG
    MX, FAST, SLOW = (f"127.0.9.{base + 1}", 2525), (f"127.0.9.{base + 2}", 2526), (f"127.0.9.{base + 3}", 2526)
    CLIENT_BASE = base + 20
    for key, (host, port) in (("MX_ADDR", MX), ("FAST_ADDR", FAST), ("SLOW_ADDR", SLOW)):
        CONFIG = CONFIG.replace(key, f"{host}:{port}")

TOKEN_RE = re.compile(rb"X-Test-Token: ([0-9a-f]{32})")
QUEUED_RE = re.compile(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]{20})$")


class Acked:
    """What the clients were told: token -> (queue id, recipients, round)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_token = {}
        self.sent = 0
        self.errors = 0

    def add(self, token, qid, rcpts, rnd):
        with self.lock:
            self.by_token[token] = (qid, rcpts, rnd)


class QuietSink(CaptureSink):
    """CaptureSink whose sessions end quietly when mxgate dies mid-session."""

    def _session(self, conn):
        try:
            super()._session(conn)
        except OSError:
            pass


class SlowBox(QuietSink):
    """slow.test's home box. While `blackhole` is set it accepts connections
    and never answers: messages to slow.test stay queued (held by workers
    waiting for a greeting) and must survive the next cuts. Otherwise it is
    a normal CaptureSink. (A refused connection would do too, but then the
    queue manager rewrites and fsyncs every message's state file every
    retry, which starves the sessions on a 2-core machine.)"""

    def __init__(self, host, port):
        super().__init__(host, port)
        self.blackhole = True
        self.held = []

    def _session(self, conn):
        if self.blackhole:
            self.held.append(conn)
            return
        super()._session(conn)

    def release(self):
        for c in self.held:
            c.close()
        self.held = []

    def stop(self):
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        super().stop()
        self.release()


def delivered_pairs(sinks):
    """(token, recipient) pairs the home boxes received (any number of times)."""
    out = set()
    for sink in sinks:
        for _mail, rcpts, data in list(sink.received):
            m = TOKEN_RE.search(data)
            if m:
                for r in rcpts:
                    out.add((m.group(1).decode(), r))
    return out


def client_loop(idx, rnd, acked, stop, rng):
    """Submits messages over one connection at a time until `stop`."""
    source = f"127.0.9.{CLIENT_BASE + idx}"
    while not stop.is_set():
        try:
            c = RawSmtp(*MX, source=source, timeout=10)
        except OSError:
            time.sleep(0.02)
            continue
        try:
            code, _ = c.reply()
            if code != 220:
                raise ConnectionError(f"greeting {code}")
            code, _ = c.cmd(f"EHLO client{idx}.crash.test")
            if code != 250:
                raise ConnectionError(f"EHLO {code}")
            while not stop.is_set():
                token = uuid.uuid4().hex
                n = acked.sent
                choice = rng.random()
                if choice < 0.6:
                    rcpts = [f"u{idx}@fast.test"]
                elif choice < 0.85:
                    rcpts = [f"u{idx}@slow.test"]
                else:
                    rcpts = [f"a{idx}@fast.test", f"b{idx}@slow.test"]
                if c.cmd(f"MAIL FROM:<sender{idx}@elsewhere.test>")[0] != 250:
                    raise ConnectionError("MAIL refused")
                for r in rcpts:
                    code, text = c.cmd(f"RCPT TO:<{r}>")
                    if code != 250:
                        raise ConnectionError(f"RCPT {r}: {text}")
                if c.cmd("DATA")[0] != 354:
                    raise ConnectionError("DATA refused")
                filler = "".join(f"line {i} of message {n} {'x' * 60}\r\n" for i in range(rng.randint(1, 200)))
                msg = (f"From: sender{idx}@elsewhere.test\r\nTo: {', '.join(rcpts)}\r\n"
                       f"Subject: crash round {rnd}\r\nX-Test-Token: {token}\r\n\r\n{filler}.\r\n")
                with acked.lock:
                    acked.sent += 1
                c.send(msg)
                code, text = c.reply()
                m = QUEUED_RE.match(text)
                if code == 250 and m:
                    acked.add(token, m.group(1), rcpts, rnd)
                elif code == 250:
                    raise AssertionError(f"250 without a queue id: {text!r}")
        except (OSError, ConnectionError) as e:
            with acked.lock:
                acked.errors += 1
        finally:
            c.close()


def spool_ids(spool, sub):
    try:
        return {f for f in os.listdir(os.path.join(spool, sub)) if len(f) == 20}
    except FileNotFoundError:
        return set()


def listening_count(mx):
    return len(mx.events("server.listening"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eatmydata", action="store_true", help="run mxgate under eatmydata (must show losses)")
    ap.add_argument("--plain-kill", action="store_true", help="SIGKILL without the image copy (no power cut)")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--min-delay", type=float, default=0.3, help="shortest run before a cut, seconds")
    ap.add_argument("--max-delay", type=float, default=3.0, help="longest run before a cut, seconds")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--host-base", type=int, default=0, help="last octet offset of the 127.0.9.x addresses")
    ap.add_argument("--budget", type=float, default=120.0, help="start no round after this many seconds")
    args = ap.parse_args()

    set_addresses(args.host_base)
    if not os.path.exists(MXGATE_BIN):
        skip(f"mxgate binary not found at {MXGATE_BIN} (set MXGATE_BIN)")
    prefix = [require("eatmydata")] if args.eatmydata else []
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    mode = ("eatmydata" if args.eatmydata else "fsync") + ("+plain-kill" if args.plain_kill else "+power-cut")
    print(f"crash test: mode={mode} rounds={args.rounds} clients={args.clients} seed={seed}", flush=True)

    # A ctest timeout sends SIGTERM: unwind so the finally below unmounts.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))
    try:
        fs = LoopFs()
    except LoopUnavailable as e:
        skip(str(e))
    start = time.time()
    fast = QuietSink(*FAST).start()
    slow = SlowBox(*SLOW).start()
    mx = None
    acked = Acked()
    failures = []
    passed = 0
    per_round = []
    try:
        try:
            mnt = fs.create()
        except LoopUnavailable as e:
            skip(str(e))
        workdir = os.path.join(fs.base, "run")  # config and log: not on the cut file system
        os.makedirs(workdir)
        what = "kill" if args.plain_kill else "cut"
        for rnd in range(1, args.rounds + 1):
            if time.time() - start > args.budget:
                print(f"time budget reached after {len(per_round)} rounds", flush=True)
                break
            spool = os.path.join(mnt, "spool")
            # slow.test's box answers every third round, so its backlog
            # survives a few cuts and the queue stays small enough to load
            # quickly at each start.
            slow.release()
            slow.blackhole = rnd % 3 != 0
            queued_at_start = len(spool_ids(spool, "queue"))
            mx = Mxgate(CONFIG.replace("{spool}", spool), workdir=workdir, name="crash")
            listening = listening_count(mx)
            t0 = time.time()
            mx.start(prefix=prefix)
            # One round in six is cut while mxgate is still starting
            # (repairing the spool, loading the queue): recovery itself must
            # not lose what an earlier round acknowledged.
            early = rng.random() < 1 / 6
            stop = threading.Event()
            threads = []
            before = len(acked.by_token)
            if early:
                delay = rng.uniform(0.0, 0.3)
                time.sleep(delay)
                startup = f"{what} during start-up"
            else:
                deadline = time.time() + 60
                while listening_count(mx) <= listening and time.time() < deadline:
                    if mx.proc.poll() is not None:
                        raise RuntimeError(f"mxgate exited with {mx.proc.returncode} at start")
                    time.sleep(0.02)
                if listening_count(mx) <= listening:
                    raise RuntimeError("mxgate did not start listening within 60 s")
                wait_port(*MX, proc=mx.proc)
                startup = f"started in {time.time() - t0:.2f}s"
                threads = [threading.Thread(target=client_loop, args=(i, rnd, acked, stop, random.Random(rng.random())),
                                            daemon=True) for i in range(args.clients)]
                for t in threads:
                    t.start()
                delay = rng.uniform(args.min_delay, args.max_delay)
                time.sleep(delay)
            mx.kill()  # SIGKILL; returns once the process is gone
            if not args.plain_kill:
                mnt = fs.cut()  # the power cut: image copied now, no sync
            stop.set()
            for t in threads:
                t.join(15)
            new = len(acked.by_token) - before
            survivors = len(spool_ids(os.path.join(mnt, "spool"), "queue"))
            per_round.append((rnd, new))
            print(f"round {rnd}: {queued_at_start} queued, {startup}, {what} after {delay:.2f}s, "
                  f"{new} acked, {survivors} in queue/ after the {what}", flush=True)

        # Final drain: a normal mxgate (no eatmydata: nothing to prove here),
        # both home boxes up, until every acknowledged pair arrived or no
        # delivery progress for 15 s.
        spool = os.path.join(mnt, "spool")
        slow.release()
        slow.blackhole = False
        mx = Mxgate(CONFIG.replace("{spool}", spool), workdir=workdir, name="crash")
        mx.start(wait_for=[MX])
        want = {(tok, r) for tok, (_q, rcpts, _n) in acked.by_token.items() for r in rcpts}
        # Wait while deliveries progress (at most 90 s in all).
        hard = time.time() + 90
        last_progress, last_count = time.time(), -1
        flushed = time.time()
        while time.time() < hard and time.time() - last_progress < 15:
            got = delivered_pairs([fast, slow])
            if want <= got:
                break
            if len(got) != last_count:
                last_progress, last_count = time.time(), len(got)
            if not spool_ids(spool, "queue") and time.time() - flushed > 3:
                break  # nothing more can come
            if time.time() - flushed > 3:
                mx.run("queue", "flush")
                flushed = time.time()
            time.sleep(0.2)
        time.sleep(0.5)
        got = delivered_pairs([fast, slow])
        left = spool_ids(spool, "queue") | spool_ids(spool, "hold")
        corrupt = spool_ids(spool, "corrupt")
        mx.stop()

        # Not delivered but still in the spool: the drain was too slow, not a
        # loss (reported separately). Not delivered and gone: lost.
        missing = want - got
        stuck = sorted(p for p in missing if acked.by_token[p[0]][0] in left)
        lost = sorted(p for p in missing if acked.by_token[p[0]][0] not in left)
        lost_by_round = {}
        for tok, r in lost:
            lost_by_round.setdefault(acked.by_token[tok][2], []).append(tok)
        print("per round: " + ", ".join(f"r{rnd} {new} acked/{len(lost_by_round.get(rnd, []))} lost"
                                        for rnd, new in per_round))
        for tok, r in lost[:20]:
            qid, _rcpts, rnd = acked.by_token[tok]
            print(f"LOST: queue id {qid} (round {rnd}) for <{r}>, token {tok}")
        if len(lost) > 20:
            print(f"LOST: ... and {len(lost) - 20} more")
        if corrupt:
            print(f"note: {len(corrupt)} message(s) quarantined in corrupt/: " + ", ".join(sorted(corrupt)[:5]))
        deliveries = len(fast.received) + len(slow.received)
        print(f"submitted {acked.sent}, connection errors {acked.errors}, {deliveries} deliveries "
              f"(duplicates included), {len(left)} left in the spool, {time.time() - start:.0f}s")

        checks = [
            ("at least 3 rounds ran", len(per_round) >= 3, f"{len(per_round)}"),
            ("messages were acknowledged", len(acked.by_token) > 0, ""),
            ("no acknowledged (message, recipient) lost", not lost, f"{len(lost)} lost"),
            ("the final drain delivered everything still queued", not stuck, f"{len(stuck)} still queued"),
        ]
        for name, ok, detail in checks:
            if ok:
                passed += 1
            else:
                failures.append(f"{name} ({detail})")
        print(f"RESULT: mode={mode} rounds={len(per_round)} acked={len(acked.by_token)} pairs={len(want)} "
              f"lost={len(lost)} undelivered={len(stuck)} seed={seed}", flush=True)
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        if mx:
            mx.dump()
        print("RESULT: harness-error", flush=True)
        sys.exit(2)
    finally:
        if mx:
            mx.kill()
        fast.stop()
        slow.stop()
        fs.cleanup()
    for f in failures:
        print("FAIL:", f)
    print(f"{passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
