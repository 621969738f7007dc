"""SIGHUP and `metrics.address` (issue 2: reload without a restart).

- moved to another address: the old socket is closed, the new one serves,
  and the counters carry over (same process, same Metrics)
- moved to an address another process holds: the whole reload is refused
  (config.reload_failed naming the address), the old endpoint still
  serves and the file's other settings are not applied
- removed: closed, with server.listener_closed; added back: serves again
Addresses: 127.0.25.x.
"""

import os
import signal
import smtplib
import socket
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from lib.harness import CaptureSink, Check, Mxgate  # noqa: E402

MX = ("127.0.25.1", 2525)
HOME = ("127.0.25.2", 2526)
FIRST = "127.0.25.1:9325"
SECOND = "127.0.25.3:9326"
TAKEN = ("127.0.25.4", 9327)

CONFIG = """
hostname: mx.metrics.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.25.1:2525", tls: none }
domains:
  - name: example.test
    recipients: ["@example.test"]
    downstream: { address: "127.0.25.2:2526", tls: none }
EXTRA_DOMAIN
policy: { spf: { enabled: false }, dkim: { verify: false }, dmarc: { enforce: false } }
METRICS
"""


def config(metrics, extra_domain=""):
    line = f'metrics: {{ address: "{metrics}" }}' if metrics else ""
    return CONFIG.replace("METRICS", line).replace("EXTRA_DOMAIN", extra_domain)


def scrape(addr):
    """The metrics body, or None when nothing answers there."""
    try:
        return urllib.request.urlopen(f"http://{addr}/metrics", timeout=3).read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return None


def reload_and_wait(mx, event):
    before = len(mx.events(event))
    mx.signal(signal.SIGHUP)
    return mx.wait_event(event, count=before + 1)[-1]


def rcpt_code(addr):
    s = smtplib.SMTP(*MX)
    s.ehlo("client.test")
    s.mail("a@elsewhere.test")
    code = s.rcpt(addr)[0]
    s.quit()
    return code


def main():
    t = Check()
    home = CaptureSink(*HOME)
    home.start()
    try:
        with Mxgate(config(FIRST), name="reload-metrics") as mx:
            mx.start(wait_for=[MX])
            s = smtplib.SMTP(*MX)
            s.sendmail("a@elsewhere.test", ["bob@example.test"], b"Subject: one\r\n\r\nbody\r\n")
            s.quit()
            body = scrape(FIRST)
            t.true("metrics served on the first address", body is not None and "mxgate_events_total" in body)
            t.true("counts the accepted message", body is not None and
                   'mxgate_events_total{event="queue.accepted"} 1' in body, (body or "")[:600])

            # Moved.
            mx.write_config(config(SECOND))
            reload_and_wait(mx, "config.reloaded")
            t.true("old metrics address closed", scrape(FIRST) is None)
            body = scrape(SECOND)
            t.true("new metrics address serves", body is not None)
            t.true("counters carry over the reload", body is not None and
                   'mxgate_events_total{event="queue.accepted"} 1' in body, (body or "")[:600])
            opened = [e for e in mx.events("server.listening") if e.get("listener") == "metrics"]
            t.eq("server.listening for both metrics sockets", [e.get("address") for e in opened], [FIRST, SECOND])

            # Moved to an address someone else holds: refused as a whole.
            blocker = socket.socket()
            blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            blocker.bind(TAKEN)
            blocker.listen(1)
            try:
                newdom = ('  - name: new.test\n    recipients: ["@new.test"]\n'
                          '    downstream: { address: "127.0.25.2:2526", tls: none }')
                mx.write_config(config(f"{TAKEN[0]}:{TAKEN[1]}", newdom))
                ev = reload_and_wait(mx, "config.reload_failed")
                errs = " ".join(ev.get("errors", []))
                t.true("reload_failed names the metrics address", "127.0.25.4:9327" in errs, errs)
                t.true("still running", mx.proc.poll() is None)
                t.true("metrics still served where they were", scrape(SECOND) is not None)
                t.eq("the refused file's domain is not applied", rcpt_code("x@new.test"), 554)
            finally:
                blocker.close()

            # Removed, then added back.
            mx.write_config(config(None))
            reload_and_wait(mx, "config.reloaded")
            t.true("metrics closed when removed", scrape(SECOND) is None)
            closed = [e for e in mx.events("server.listener_closed") if e.get("listener") == "metrics"]
            t.eq("server.listener_closed for each closed metrics socket", len(closed), 2)
            mx.write_config(config(FIRST))
            reload_and_wait(mx, "config.reloaded")
            t.true("metrics back on the first address", scrape(FIRST) is not None)
            t.true("mail still relayed", mx.proc.poll() is None and rcpt_code("y@example.test") == 250)
    finally:
        home.stop()
    t.done()


if __name__ == "__main__":
    main()
