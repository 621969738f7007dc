"""Hostile and malformed SMTP input against a real mxgate (SPEC §4).

STARTTLS command injection, every bare-CR/bare-LF end-of-data smuggling
variant, open-relay address forms, and each limit with its reply code.
Clients: raw sockets (exact bytes) and swaks. Addresses: 127.0.2.x.
"""

import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.harness import Check, Mxgate, RawSmtp, require  # noqa: E402

HOST, PORT = "127.0.2.1", 2525
CONFIG = """
hostname: mx.hostile.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.2.1:2525", tls: starttls }
tls: { self_signed: true, certificate: {dir}/cert.pem, key: {dir}/key.pem }
domains:
  - name: example.test
    recipients: ["alice@example.test", "bob@example.test"]
    downstream: { address: "127.0.2.99:2526", tls: none }
  - name: sub.example.test
    recipients: ["@sub.example.test"]
    downstream: { address: "127.0.2.99:2526", tls: none }
# This test is about relaying, not sender authentication (SPEC §6 has its own test).
policy: { spf: { enabled: false }, dkim: { verify: false }, dmarc: { enforce: false } }
limits:
  message_size: 64K
  recipients: 3
  connections: 30
  connections_per_ip: 4
  line_length: 1000
  timeouts: { command: 3s, data_block: 3s, tls_handshake: 3s }
"""


def session(ehlo=True):
    c = RawSmtp(HOST, PORT)
    code, _ = c.reply()
    assert code == 220, code
    if ehlo:
        c.cmd("EHLO client.test")
    return c


def transaction(c, rcpt="alice@example.test"):
    c.cmd("MAIL FROM:<sender@elsewhere.test>")
    return c.cmd(f"RCPT TO:<{rcpt}>")


def main():
    require("swaks")
    t = Check()
    with Mxgate(CONFIG, name="hostile") as mx:
        mx.start(wait_for=[(HOST, PORT)])

        # --- STARTTLS injection: commands pipelined after STARTTLS in the same
        # packet must be discarded, not executed after the handshake.
        c = session()
        c.send("STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
        code, _ = c.reply()
        t.eq("STARTTLS accepted", code, 220)
        c.starttls()
        code, text = c.cmd("EHLO client.test")
        t.eq("EHLO after TLS", code, 250)
        t.true("no STARTTLS offered inside TLS", "STARTTLS" not in text)
        code, text = c.cmd("RCPT TO:<alice@example.test>")
        t.eq("injected MAIL was not executed (RCPT needs MAIL)", code, 503)
        code, _ = c.cmd("STARTTLS")
        t.eq("STARTTLS inside TLS refused", code, 503)
        c.close()

        # --- state reset after STARTTLS: a MAIL before TLS does not survive it.
        c = session()
        c.cmd("MAIL FROM:<before@tls.test>")
        c.cmd("STARTTLS")
        c.starttls()
        code, _ = c.cmd("RCPT TO:<alice@example.test>")
        t.eq("transaction reset by STARTTLS", code, 503)
        code, _ = c.cmd("MAIL FROM:<a@b.test>")
        t.eq("HELO required again after STARTTLS", code, 503)
        c.close()

        # --- end-of-data smuggling: only CRLF.CRLF ends DATA; any message
        # with a bare CR or LF is refused with 550 5.6.0 at the real end.
        variants = {
            "LF.LF": b"\n.\n",
            "LF.CRLF": b"\n.\r\n",
            "CR.CR": b"\r.\r",
            "CRLF.LF": b"\r\n.\n",
            "CRLF.CR": b"\r\n.\r",
            "LF.CR": b"\n.\r",
            "CR.LF": b"\r.\n",
            "CR.CRLF": b"\r.\r\n",
        }
        for name, seq in variants.items():
            c = session()
            transaction(c)
            c.cmd("DATA")
            smuggled = b"MAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n"
            c.send(b"Subject: carrier\r\n\r\nhello" + seq + smuggled + b"\r\n.\r\n")
            code, text = c.reply()
            t.eq(f"smuggling {name}: whole message refused", (code, "5.6.0" in text), (550, True))
            # The next reply must be for our NOOP: nothing was executed from the body.
            code, _ = c.cmd("NOOP")
            t.eq(f"smuggling {name}: session in sync", code, 250)
            c.close()

        # bare LF inside an ordinary line of the body
        c = session()
        transaction(c)
        c.cmd("DATA")
        c.send(b"Subject: x\r\n\r\nline one\nline two\r\n.\r\n")
        code, text = c.reply()
        t.eq("bare LF in body refused", (code, "5.6.0" in text), (550, True))
        c.close()

        # --- bare LF / CR / NUL in commands
        c = session()
        code, text = c.cmd("NOOP\nNOOP")
        t.eq("bare LF in command", (code, "5.5.2" in text), (500, True))
        c.send(b"NO\x00OP\r\n")
        code, text = c.reply()
        t.eq("NUL in command", (code, "5.5.2" in text), (500, True))
        c.send(b"NOOP\rNOOP\r\n")
        code, text = c.reply()
        t.eq("bare CR in command", (code, "5.5.2" in text), (500, True))
        code, text = c.cmd("NOOP " + "x" * 600)
        t.eq("command line > 512 octets", (code, "5.5.2" in text), (500, True))
        code, _ = c.cmd("NOOP")
        t.eq("session usable after long line", code, 250)
        c.close()

        # --- open relay: every address form refused with 554 5.7.1
        relay_forms = [
            "victim@other.test",
            "victim%other.test@example.test",
            "other.test!victim@example.test",
            '"victim@other.test"@example.test',
            "@example.test:victim@other.test",
            "@example.test,@x.test:victim@other.test",
            "victim@[192.0.2.1]",
            "victim@example.test.",
            "victim@other.test@example.test",
            "victim@EXAMPLE.test.other.test",
        ]
        c = session()
        c.cmd("MAIL FROM:<sender@elsewhere.test>")
        for addr in relay_forms:
            code, text = c.cmd(f"RCPT TO:<{addr}>")
            t.true(f"relay form {addr!r} refused", code >= 500 and code != 250, f"got {code} {text}")
            t.true(f"relay form {addr!r} is 554 5.7.1 or a syntax error", (code == 554 and "5.7.1" in text) or code == 501, f"got {code} {text}")
        code, text = c.cmd("RCPT TO:<nobody@example.test>")
        t.eq("unknown local recipient", (code, "5.1.1" in text), (550, True))
        code, _ = c.cmd("RCPT TO:<Alice@EXAMPLE.TEST>")
        t.eq("owner domain case-insensitive", code, 250)
        code, _ = c.cmd("RCPT TO:<anyone@sub.example.test>")
        t.eq("@domain wildcard recipient", code, 250)
        c.close()

        # --- limits
        c = session()
        c.cmd("MAIL FROM:<s@elsewhere.test>")
        for r in ["alice@example.test", "bob@example.test", "x@sub.example.test"]:
            c.cmd(f"RCPT TO:<{r}>")
        code, text = c.cmd("RCPT TO:<y@sub.example.test>")
        t.eq("too many recipients", (code, "4.5.3" in text), (452, True))
        c.close()

        c = session()
        code, text = c.cmd("MAIL FROM:<s@elsewhere.test> SIZE=999999999")
        t.eq("declared SIZE over limit", (code, "5.3.4" in text), (552, True))
        transaction(c)
        c.cmd("DATA")
        c.send(b"Subject: big\r\n\r\n" + (b"x" * 150 + b"\r\n") * 600 + b".\r\n")
        code, text = c.reply()
        t.eq("message over message_size", (code, "5.3.4" in text), (552, True))
        c.close()

        c = session()
        transaction(c)
        c.cmd("DATA")
        c.send(b"Subject: long\r\n\r\n" + b"y" * 1200 + b"\r\n.\r\n")
        code, text = c.reply()
        t.eq("line over line_length", (code, "5.6.0" in text), (550, True))
        c.close()

        c = session()
        transaction(c)
        c.cmd("DATA")
        c.send(b"".join(b"Received: from hop%d by x; Sun, 22 Nov 2026 10:00:00 +0000\r\n" % i for i in range(51)) + b"Subject: loop\r\n\r\nx\r\n.\r\n")
        code, text = c.reply()
        t.eq("more than 50 Received headers", (code, "5.4.6" in text), (554, True))
        c.close()

        c = session()
        code, text = c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")
        t.eq("AUTH on the mx listener", (code, "5.5.1" in text), (503, True))
        code, text = c.cmd("EHLO again.test")
        t.true("AUTH never advertised on mx", "AUTH" not in text)
        c.close()

        # connections per IP: 4 allowed, the 5th gets 421 4.7.0 and is closed
        held = [session(ehlo=False) for _ in range(4)]
        extra = RawSmtp(HOST, PORT)
        code, text = extra.reply()
        t.eq("connections_per_ip exceeded", (code, "4.7.0" in text), (421, True))
        t.true("closed after 421", extra.closed())
        for h in held:
            h.close()
        time.sleep(0.3)
        # another address is counted separately
        other = RawSmtp(HOST, PORT, source="127.0.2.50")
        code, _ = other.reply()
        t.eq("other client address unaffected", code, 220)
        other.close()

        # idle timeout: 421 4.4.2 after limits.timeouts.command (3s)
        c = session()
        start = time.time()
        c.sock.settimeout(10)
        code, text = c.reply()
        t.eq("idle timeout", (code, "4.4.2" in text), (421, True))
        t.true("timeout took about 3s", 2.0 <= time.time() - start <= 6.0, f"{time.time() - start:.1f}s")
        c.close()

        # every reply except greeting/EHLO carries an enhanced status code
        c = session()
        for cmd in ["NOOP", "RSET", "HELP", "VRFY x", "FOO", "MAIL FROM:<>", "RCPT TO:<alice@example.test>", "QUIT"]:
            code, text = c.cmd(cmd)
            first = text.split("\n")[0]
            parts = first[4:].split(" ")
            t.true(f"enhanced code on reply to {cmd}", len(parts[0].split(".")) == 3 and parts[0][0] in "245", first)
        c.close()

        # swaks as a real client: plaintext and pipelining
        r = subprocess.run(["swaks", "--server", f"{HOST}:{PORT}", "--to", "alice@example.test",
                            "--from", "someone@elsewhere.test", "--pipeline"], capture_output=True, text=True, timeout=30)
        t.true("swaks pipelined delivery accepted", "Ok: queued as" in r.stdout, r.stdout[-500:])

        # the daemon survived all of it
        t.true("daemon still running", mx.proc.poll() is None)
        accepted = mx.events("queue.accepted")
        t.eq("exactly one message accepted (swaks)", len(accepted), 1)
    t.done()


if __name__ == "__main__":
    main()
