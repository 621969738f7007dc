"""Queueing while the home box is offline, and the operator's tools.

- home box down → queued, `mxgate status` shows it down with the error
- the home box comes back and sends ETRN from its own address → delivered
  at once (retry interval is 1h); ETRN from another address → 459
- queue list/show/flush/delete/bounce through the running daemon
- max_lifetime → DSN; delay_warning → one delay notice
- messages survive a restart; SIGHUP with a broken config keeps running
  and logs config.reload_failed; a good config applies; metrics; SIGTERM
Addresses: 127.0.4.x.
"""

import os
import signal
import smtplib
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from lib.harness import CaptureSink, Check, Mxgate, RawSmtp  # noqa: E402

MX = ("127.0.4.1", 2525)
HOME = ("127.0.4.2", 2526)
BACKUP = ("127.0.4.3", 2526)

CONFIG = """
hostname: mx.queue.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.4.1:2525", tls: none }
domains:
  - name: example.test
    recipients: ["@example.test"]
    downstream: { address: "127.0.4.2:2526", tls: none }
  - name: backup.test
    recipients: RECIPIENTS
    downstream: { address: "127.0.4.3:2526", tls: none }
# This test is about relaying, not sender authentication (SPEC §6 has its own test).
policy: { spf: { enabled: false }, dkim: { verify: false }, dmarc: { enforce: false } }
queue: { retry: [RETRY], max_lifetime: LIFETIME, delay_warning: WARNING }
metrics: { address: "127.0.4.1:9325" }
"""


def config(retry="1h", lifetime="5d", warning="4h", recipients='["@backup.test"]'):
    return (CONFIG.replace("RETRY", retry).replace("LIFETIME", lifetime)
            .replace("WARNING", warning).replace("RECIPIENTS", recipients))


def send(sender, rcpts, subject):
    s = smtplib.SMTP(*MX)
    s.ehlo("client.test")
    s.sendmail(sender, rcpts, f"Subject: {subject}\r\nX-Token: {subject}\r\n\r\nbody\r\n".encode())
    s.quit()


def queue_ids(mx):
    out = mx.run("queue", "list").stdout
    return [line.split()[0] for line in out.splitlines() if len(line) > 18 and line[:1].isalnum() and not line.startswith("ID")]


def main():
    t = Check()
    backup = CaptureSink(*BACKUP).start()
    try:
        with Mxgate(config(), name="queue") as mx:
            mx.start(wait_for=[MX])

            # --- home box offline: the message waits in the queue
            send("someone@elsewhere.test", ["alice@example.test"], "while-offline")
            mx.wait_event("delivery.deferred", lambda e: e.get("domain") == "example.test")
            st = mx.run("status")
            t.true("status shows the downstream down", "down" in st.stdout and "example.test" in st.stdout, st.stdout)
            t.true("status says why", "127.0.4.2" in st.stdout and ("refused" in st.stdout.lower() or "connect" in st.stdout.lower()), st.stdout)
            ids = queue_ids(mx)
            t.eq("one message queued", len(ids), 1)
            show = mx.run("queue", "show", ids[0])
            t.true("queue show has sender, recipient and headers",
                   "someone@elsewhere.test" in show.stdout and "alice@example.test" in show.stdout and "X-Token: while-offline" in show.stdout,
                   show.stdout)
            t.true("queue show refuses path tricks", mx.run("queue", "show", "../../etc/passwd").returncode != 0)

            # --- the home box comes back; a stranger's ETRN is refused
            home = CaptureSink(*HOME).start()
            try:
                c = RawSmtp(*MX, source="127.0.4.77")
                c.reply()
                c.cmd("EHLO stranger.test")
                code, text = c.cmd("ETRN example.test")
                t.eq("ETRN from a stranger refused", code, 459)
                c.close()
                time.sleep(0.5)
                t.eq("nothing delivered yet (retry is 1h)", len(home.received), 0)
                # ETRN from the home box's own address flushes its domain now
                c = RawSmtp(*MX, source=HOME[0])
                c.reply()
                c.cmd("EHLO home.example.test")
                code, text = c.cmd("ETRN example.test")
                t.true("ETRN from the downstream accepted", code in (250, 251, 252, 253), text)
                c.close()
                got = home.wait(1, timeout=10)
                t.true("queued message delivered after ETRN", b"X-Token: while-offline" in got[0][2])
                mx.wait_event("delivery.success", lambda e: e.get("domain") == "example.test")
                st = mx.run("status")
                t.true("status shows the downstream up again", " up " in st.stdout, st.stdout)

                # --- queue flush through the daemon
                home.stop()
                time.sleep(0.2)
                send("someone@elsewhere.test", ["bob@example.test"], "flush-me")
                mx.wait_event("delivery.deferred", lambda e: e.get("recipients") == ["bob@example.test"])
                home = CaptureSink(*HOME).start()
                r = mx.run("queue", "flush")
                t.eq("queue flush exit", r.returncode, 0)
                got = home.wait(1, timeout=10)
                t.true("flushed message delivered", any(b"X-Token: flush-me" in m[2] for m in got))

                # --- queue delete and queue bounce
                home.stop()
                time.sleep(0.2)
                send("someone@elsewhere.test", ["carol@example.test"], "delete-me")
                send("owner@backup.test", ["dave@example.test"], "bounce-me")
                mx.wait_event("delivery.deferred", lambda e: e.get("recipients") == ["dave@example.test"])
                ids = queue_ids(mx)
                t.eq("two queued", len(ids), 2)
                shows = {i: mx.run("queue", "show", i).stdout for i in ids}
                delete_id = [i for i, s in shows.items() if "delete-me" in s][0]
                bounce_id = [i for i, s in shows.items() if "bounce-me" in s][0]
                r = mx.run("queue", "delete", delete_id)
                t.eq("queue delete", r.returncode, 0)
                r = mx.run("queue", "bounce", bounce_id)
                t.eq("queue bounce", r.returncode, 0)
                dsn = backup.wait(1, timeout=10)[0]
                t.eq("bounce DSN to the sender", (dsn[0], dsn[1]), ("", ["owner@backup.test"]))
                t.true("bounce DSN says why", b"administrator" in dsn[2] and b"dave@example.test" in dsn[2])
                t.eq("queue empty after delete and bounce", queue_ids(mx), [])
                r = mx.run("queue", "delete", delete_id)
                t.true("deleting an unknown id fails", r.returncode == 1, r.stderr)
                r = mx.run("queue", "release", "0123456789ABCDEF0123")
                t.true("release of a message that is not held exits 1", r.returncode == 1, r.stderr)
            finally:
                home.stop()

            # --- metrics
            body = urllib.request.urlopen("http://127.0.4.1:9325/metrics", timeout=5).read().decode()
            t.true("metrics count accepted mail", 'mxgate_events_total{event="queue.accepted"} 4' in body, body[:800])
            t.true("metrics has a queue gauge", "mxgate_queue_messages" in body)

            # --- SIGHUP: a broken config keeps the running one
            good = open(mx.config_path).read()
            with open(mx.config_path, "w") as f:
                f.write(good.replace("hostname: mx.queue.test", "hostname: mx.queue.test\nbogus_key: 1"))
            mx.signal(signal.SIGHUP)
            ev = mx.wait_event("config.reload_failed")[0]
            t.true("reload_failed lists errors with FILE:LINE:COL", any("bogus_key" in e and ":" in e for e in ev.get("errors", [])), ev)
            t.true("still running after a broken reload", mx.proc.poll() is None)
            c = RawSmtp(*MX)
            t.eq("still serving", c.reply()[0], 220)
            c.cmd("EHLO x.test")
            c.cmd("MAIL FROM:<a@elsewhere.test>")
            code, _ = c.cmd("RCPT TO:<new@newdomain.test>")
            t.eq("unknown domain refused before reload", code, 554)
            c.close()
            # a good config with a new domain applies to new sessions
            with open(mx.config_path, "w") as f:
                f.write(good.replace("  - name: backup.test", "  - name: newdomain.test\n    recipients: [\"@newdomain.test\"]\n    downstream: { address: \"127.0.4.3:2526\", tls: none }\n  - name: backup.test"))
            mx.signal(signal.SIGHUP)
            mx.wait_event("config.reloaded")
            c = RawSmtp(*MX)
            c.reply()
            c.cmd("EHLO x.test")
            c.cmd("MAIL FROM:<a@elsewhere.test>")
            code, _ = c.cmd("RCPT TO:<new@newdomain.test>")
            t.eq("new domain accepted after reload", code, 250)
            c.close()

            # --- restart: a queued message survives
            send("someone@elsewhere.test", ["erin@example.test"], "survives-restart")
            mx.wait_event("delivery.deferred", lambda e: e.get("recipients") == ["erin@example.test"])
            start = time.time()
            rc = mx.stop()
            t.eq("SIGTERM exits 0", rc, 0)
            t.true("SIGTERM drains quickly", time.time() - start < 12, f"{time.time() - start:.1f}s")
            home = CaptureSink(*HOME).start()
            try:
                mx.start(wait_for=[MX])
                # retry is 1h; restart loads the queue with its schedule, so flush
                mx.run("queue", "flush")
                got = home.wait(1, timeout=10)
                t.true("message delivered after restart", b"X-Token: survives-restart" in got[0][2])
            finally:
                home.stop()

        # --- expiry and delay notices (fresh instance, short lifetimes)
        backup.received.clear()
        with Mxgate(config(retry="1s", lifetime="4s", warning="2s"), name="expiry") as mx:
            mx.start(wait_for=[MX])
            send("owner@backup.test", ["frank@example.test"], "expires")
            dsns = backup.wait(2, timeout=20)
            kinds = [b"delayed" in d[2].lower() for d in dsns]
            t.true("a delay notice was sent first", kinds[0], dsns[0][2][:1500])
            t.true("then the final failure DSN", b"failed" in dsns[1][2].lower() and b"frank@example.test" in dsns[1][2], dsns[1][2][:1500])
            time.sleep(2.5)
            t.eq("exactly one delay notice and one failure", len(backup.received), 2)
            t.eq("expired message removed", queue_ids(mx), [])
    finally:
        backup.stop()
    t.done()


if __name__ == "__main__":
    main()
