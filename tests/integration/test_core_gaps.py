"""Gaps of the relay core (issues 2 and 4) closed later.

1. SIGHUP with a changed `listeners:` list (issue 2): a listener added, one
   removed (a session already open on it finishes), one moved to another
   port, the unchanged one accepting throughout the reload (a client loop
   connects to it the whole time); a bind conflict refuses the whole reload
   (config.reload_failed naming the address; no listener and no other
   setting of that file applied).
2. NOTIFY=SUCCESS (RFC 3461 §5.2.2, §6.2.3) with Postfix's smtp-sink as next
   hop: with `-N` (no DSN offered) mxgate sends a "relayed" notice; to a
   sink offering DSN it passes NOTIFY/ORCPT/ENVID/RET on and sends nothing;
   LMTP final delivery gives "delivered".
Addresses: 127.0.20.x.
"""

import os
import signal
import smtplib
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.harness import Check, Mxgate, RawSmtp, SmtpSink, wait_port  # noqa: E402

# --- part 1: listeners on reload
KEEP = ("127.0.20.1", 2525)
GONE = ("127.0.20.2", 2525)
MOVED_OLD = ("127.0.20.3", 2525)
MOVED_NEW = ("127.0.20.3", 2526)
ADDED = ("127.0.20.4", 2525)
TAKEN = ("127.0.20.5", 2525)   # held by another process: the bind conflict
NEVER = ("127.0.20.6", 2525)   # in the refused reload only

RELOAD_BASE = """
hostname: mx.gaps.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
LISTENERS
domains:
  - name: example.test
    recipients: ["@example.test"]
    downstream: { address: "127.0.20.9:2526", tls: none }
DOMAINS
policy: { spf: { enabled: false }, dkim: { verify: false }, dmarc: { enforce: false } }
queue: { retry: [1h], max_lifetime: 1h, delay_warning: 1h }
"""


def listener_lines(items):
    return "\n".join(f'  - {{ name: {n}, role: mx, address: "{h}:{p}", tls: none }}' for n, (h, p) in items)


def reload_config(items, extra_domain=""):
    return RELOAD_BASE.replace("LISTENERS", listener_lines(items)).replace("DOMAINS", extra_domain)


def refused(addr):
    try:
        socket.create_connection(addr, timeout=2).close()
        return False
    except OSError:
        return True


def greets(addr):
    try:
        c = RawSmtp(*addr, timeout=5)
        code, _ = c.reply()
        c.close()
        return code == 220
    except OSError:
        return False


class Prober(threading.Thread):
    """Connects to addr in a loop and counts greetings and failures."""

    def __init__(self, addr):
        super().__init__(daemon=True)
        self.addr, self.ok, self.failed, self.errors = addr, 0, 0, []
        self.stop_flag = threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            if greets(self.addr):
                self.ok += 1
            else:
                self.failed += 1
            time.sleep(0.005)


def reload_and_wait(mx, event):
    before = len(mx.events(event))
    mx.signal(signal.SIGHUP)
    return mx.wait_event(event, count=before + 1)[-1]


def part_listeners(t):
    first = [("keep", KEEP), ("gone", GONE), ("moved", MOVED_OLD)]
    with Mxgate(reload_config(first), name="gaps-reload") as mx:
        mx.start(wait_for=[KEEP, GONE, MOVED_OLD])
        t.eq("three listeners at start", len(mx.events("server.listening")), 3)

        # A session on the listener about to be removed, mid-transaction.
        old = RawSmtp(*GONE)
        t.eq("session on 'gone' greeted", old.reply()[0], 220)
        old.cmd("EHLO client.test")
        t.eq("MAIL on 'gone'", old.cmd("MAIL FROM:<a@elsewhere.test>")[0], 250)

        probe = Prober(KEEP)
        probe.start()
        time.sleep(0.3)
        second = [("keep", KEEP), ("moved", MOVED_NEW), ("added", ADDED)]
        mx.write_config(reload_config(second))
        reload_and_wait(mx, "config.reloaded")
        time.sleep(0.3)
        probe.stop_flag.set()
        probe.join()
        t.true("unchanged listener accepted throughout the reload", probe.failed == 0 and probe.ok > 10,
               f"ok={probe.ok} failed={probe.failed}")

        t.true("added listener accepts", greets(ADDED))
        t.true("moved listener accepts on its new port", greets(MOVED_NEW))
        t.true("moved listener's old port is closed", refused(MOVED_OLD))
        t.true("removed listener is closed", refused(GONE))
        opened = {e.get("listener"): e.get("address") for e in mx.events("server.listening")[3:]}
        t.eq("server.listening for the new sockets only", opened,
             {"moved": "127.0.20.3:2526", "added": "127.0.20.4:2525"})
        closed = {e.get("listener"): e.get("address") for e in mx.events("server.listener_closed")}
        t.eq("server.listener_closed for the removed sockets", closed,
             {"gone": "127.0.20.2:2525", "moved": "127.0.20.3:2525"})

        # The session accepted on the removed listener finishes normally.
        t.eq("RCPT on the removed listener's session", old.cmd("RCPT TO:<bob@example.test>")[0], 250)
        t.eq("DATA", old.cmd("DATA")[0], 354)
        t.eq("message accepted after its listener closed", old.cmd("Subject: s\r\n\r\nbody\r\n.")[0], 250)
        old.cmd("QUIT")
        old.close()

        # A bind conflict: the whole reload is refused.
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(TAKEN)
        blocker.listen(1)
        try:
            third = [("moved", MOVED_NEW), ("added", ADDED), ("never", NEVER), ("taken", TAKEN)]
            newdom = ('  - name: new.test\n    recipients: ["@new.test"]\n'
                      '    downstream: { address: "127.0.20.9:2526", tls: none }')
            mx.write_config(reload_config(third, newdom))
            ev = reload_and_wait(mx, "config.reload_failed")
            errs = " ".join(ev.get("errors", []))
            t.true("reload_failed names the address in use", "127.0.20.5:2525" in errs and "in use" in errs, errs)
            t.true("still running", mx.proc.poll() is None)
            t.true("kept listener still accepts (not removed)", greets(KEEP))
            t.true("listener bound before the failure was closed again", refused(NEVER))
            t.true("other listeners unchanged", greets(ADDED) and greets(MOVED_NEW))
            c = RawSmtp(*KEEP)
            c.reply()
            c.cmd("EHLO client.test")
            c.cmd("MAIL FROM:<a@elsewhere.test>")
            t.eq("the refused file's domain is not applied", c.cmd("RCPT TO:<x@new.test>")[0], 554)
            c.close()
        finally:
            blocker.close()
        # The same file once the address is free: applies.
        reload_and_wait(mx, "config.reloaded")
        t.true("after the conflict is gone the reload applies", greets(TAKEN) and greets(NEVER) and refused(KEEP))
        c = RawSmtp(*TAKEN)
        c.reply()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@elsewhere.test>")
        t.eq("new domain on the new listener", c.cmd("RCPT TO:<x@new.test>")[0], 250)
        c.close()


# --- part 2: NOTIFY=SUCCESS
MX = ("127.0.20.20", 2525)
NODSN = ("127.0.20.21", 2526)   # smtp-sink -N: no DSN
WITHDSN = ("127.0.20.22", 2526)  # smtp-sink: offers DSN
LMTP = ("127.0.20.23", 2524)    # smtp-sink -L -N: LMTP, final delivery
BACK = ("127.0.20.24", 2526)    # the sender's domain: receives the notices

DSN_CONFIG = """
hostname: mx.gaps.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.20.20:2525", tls: none }
domains:
  - name: nodsn.test
    recipients: ["@nodsn.test"]
    downstream: { address: "127.0.20.21:2526", tls: none }
  - name: withdsn.test
    recipients: ["@withdsn.test"]
    downstream: { address: "127.0.20.22:2526", tls: none }
  - name: lmtp.test
    recipients: ["@lmtp.test"]
    downstream: { address: "lmtp://127.0.20.23:2524", tls: none }
  - name: back.test
    recipients: ["@back.test"]
    downstream: { address: "127.0.20.24:2526", tls: none }
policy: { spf: { enabled: false }, dkim: { verify: false }, dmarc: { enforce: false } }
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
"""


def header_block(msg):
    return msg.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in msg else msg.split(b"\n\n", 1)[0]


def part_notify(t):
    nodsn = SmtpSink(*NODSN, extra=["-N"]).start()
    withdsn = SmtpSink(*WITHDSN).start()
    lmtp = SmtpSink(*LMTP, lmtp=True, extra=["-N"]).start()
    back = SmtpSink(*BACK).start()
    try:
        with Mxgate(DSN_CONFIG, name="gaps-dsn") as mx:
            mx.start(wait_for=[MX])
            s = smtplib.SMTP(*MX)
            s.ehlo("client.back.test")
            t.true("mxgate offers DSN", s.has_extn("dsn"))
            s.mail("alice@back.test", ["RET=HDRS", "ENVID=GAPS42"])
            for rcpt, params in [("a@nodsn.test", ["NOTIFY=SUCCESS", "ORCPT=rfc822;a@nodsn.test"]),
                                 ("d@nodsn.test", []),
                                 ("b@withdsn.test", ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;b@withdsn.test"]),
                                 ("c@lmtp.test", ["NOTIFY=SUCCESS"])]:
                code, _ = s.rcpt(rcpt, params)
                t.eq(f"RCPT {rcpt}", code, 250)
            code, _ = s.data(b"From: alice@elsewhere.test\r\nSubject: notify success\r\n\r\nSECRET-BODY-TEXT\r\n")
            t.eq("accepted", code, 250)
            s.quit()

            got_nodsn = nodsn.wait_messages(1)[0]
            got_dsn = withdsn.wait_messages(1)[0]
            lmtp.wait_messages(1)
            h = header_block(got_dsn)
            t.true("DSN next hop got RET and ENVID", b"X-Mail-Args: <alice@back.test> RET=HDRS ENVID=GAPS42" in h, h[:400])
            t.true("DSN next hop got NOTIFY and ORCPT",
                   b"X-Rcpt-Args: <b@withdsn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@withdsn.test" in h, h[:400])
            h = header_block(got_nodsn)
            t.true("no DSN parameters to a next hop without DSN", b"NOTIFY=" not in h and b"ENVID=" not in h, h[:400])

            notices = back.wait_messages(2)
            time.sleep(2.0)  # nothing more may come (no notice for the DSN-capable hop)
            notices = back.messages()
            t.eq("exactly two success notices (relayed, delivered)", len(notices), 2)
            relayed = [m for m in notices if b"Action: relayed" in m]
            delivered = [m for m in notices if b"Action: delivered" in m]
            t.eq("one relayed notice", len(relayed), 1)
            t.eq("one delivered notice (LMTP)", len(delivered), 1)
            if relayed:
                m = relayed[0]
                t.true("relayed notice from <> to the sender",
                       b"X-Mail-Args: <>" in m and b"X-Rcpt-Args: <alice@back.test>" in m, m[:300])
                t.true("relayed notice names a@ with ORCPT and status 2.x",
                       b"Final-Recipient: rfc822; a@nodsn.test" in m and
                       b"Original-Recipient: rfc822; a@nodsn.test" in m and b"Status: 2." in m, m[-1500:])
                t.true("no notice for a recipient without NOTIFY", b"d@nodsn.test" not in m)
                t.true("notice carries ENVID", b"Original-Envelope-Id: GAPS42" in m)
                t.true("notice names the next hop", b"Remote-MTA: dns; 127.0.20.21" in m, m[-1500:])
                t.true("notice has headers only", b"SECRET-BODY-TEXT" not in m and b"Subject: notify success" in m)
            if delivered:
                t.true("delivered notice names c@lmtp.test", b"Final-Recipient: rfc822; c@lmtp.test" in delivered[0])
            t.true("no notice for the DSN-capable hop's recipient",
                   all(b"b@withdsn.test" not in m for m in notices))
            t.eq("queue.success_notice events", len(mx.events("queue.success_notice")), 2)
    finally:
        for sink in (nodsn, withdsn, lmtp, back):
            sink.stop()


def main():
    t = Check()
    part_listeners(t)
    part_notify(t)
    t.done()


if __name__ == "__main__":
    main()
