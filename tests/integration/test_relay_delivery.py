"""Relay to the home box with real peers (issue 2, SPEC §1/§4).

- byte-identical delivery apart from the added Received: header (Python
  smtplib in, a byte-exact capture server as the home box)
- the Received: line names TLS version and cipher, or says plaintext
- the downstream's host name resolved through a real DNS server (unbound)
- LMTP downstream with per-recipient replies; a 5xx from the home box
  gives exactly one DSN (RFC 3464) to the sender, never one to <>, and
  none for a recipient given with NOTIFY=NEVER
- Postfix's smtp-sink as home box; swaks as client
Addresses: 127.0.3.x.
"""

import os
import smtplib
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import CaptureSink, Check, Mxgate, SmtpSink, require, skip  # noqa: E402

MX = ("127.0.3.1", 2525)
CONFIG = """
hostname: mx.relay.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.3.1:2525", tls: starttls }
tls: { self_signed: true, certificate: {dir}/cert.pem, key: {dir}/key.pem }
dns: { resolver: "127.0.3.53:5353" }
domains:
  - name: example.test
    recipients: ["@example.test"]
    downstream: { address: "home.example.test:2526", tls: opportunistic }
  - name: lmtp.test
    recipients: ["@lmtp.test"]
    downstream: { address: "lmtp://127.0.3.3:2524", tls: none }
  - name: sink.test
    recipients: ["@sink.test"]
    downstream: { address: "127.0.3.4:2526", tls: none }
# This test is about relaying, not sender authentication (SPEC §6 has its own test).
policy: { spf: { enabled: false }, dkim: { verify: false }, dmarc: { enforce: false } }
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
"""

ORIGINAL = (
    b"From: Bob <bob@elsewhere.test>\r\n"
    b"To: alice@example.test\r\n"
    b"Subject: byte identical\r\n"
    b"Message-ID: <1@elsewhere.test>\r\n"
    b"\r\n"
    b"first line\r\n"
    b".a line that starts with a dot\r\n"
    b"..two dots\r\n"
    b"trailing spaces   \r\n"
    b"\ttab\r\n"
    b"\r\n"
    b"\xc3\xa9t\xc3\xa9 8-bit\r\n"
    b"last line without much\r\n"
)


def main():
    require("swaks")
    t = Check()
    try:
        dns = DnsServer("127.0.3.53", 5353, records=["home.example.test. A 127.0.3.2"]).start()
    except DnsServerUnavailable as e:
        skip(str(e))
    home = CaptureSink("127.0.3.2", 2526).start()
    failing = {"reject@lmtp.test": "550 5.1.1 <reject@lmtp.test>: no such user"}
    lmtp = CaptureSink("127.0.3.3", 2524, lmtp=True,
                       data_reply=lambda rcpts: [failing.get(r, "250 2.0.0 delivered") for r in rcpts]).start()
    sink = SmtpSink("127.0.3.4", 2526).start()
    try:
        with Mxgate(CONFIG, name="relay") as mx:
            mx.start(wait_for=[MX])

            # 1. byte-identical delivery, plaintext in
            s = smtplib.SMTP(*MX)
            s.ehlo("client.elsewhere.test")
            s.sendmail("bob@elsewhere.test", ["alice@example.test"], ORIGINAL)
            s.quit()
            got = home.wait(1)[0]
            mail_from, rcpts, data = got
            t.eq("envelope sender", mail_from, "bob@elsewhere.test")
            t.eq("envelope recipients", rcpts, ["alice@example.test"])
            t.true("body is byte-identical after our header", data.endswith(ORIGINAL), repr(data[-200:]))
            added = data[: len(data) - len(ORIGINAL)]
            t.true("exactly one header added: Received", added.startswith(b"Received: from client.elsewhere.test") and added.count(b"\r\n") >= 1 and b"\r\n\r\n" not in added, repr(added))
            t.true("Received says plaintext", b"plaintext" in added, repr(added))
            t.true("Received names mxgate and the queue id", b"by mx.relay.test (mxgate) with ESMTP id" in added, repr(added))

            # 2. TLS in: the Received line names version and cipher
            s = smtplib.SMTP(*MX)
            s.ehlo("tls.elsewhere.test")
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s.starttls(context=ctx)
            s.ehlo("tls.elsewhere.test")
            s.sendmail("bob@elsewhere.test", ["alice@example.test"], b"Subject: over tls\r\n\r\nhi\r\n")
            s.quit()
            data = home.wait(2)[1][2]
            t.true("Received over TLS names version and cipher", b"using TLSv1.3 with cipher" in data and b"ESMTPS" in data, repr(data[:300]))

            # 3. LMTP with per-recipient replies; one DSN to the sender
            s = smtplib.SMTP(*MX)
            s.ehlo("client.elsewhere.test")
            s.sendmail("owner@example.test", ["ok1@lmtp.test", "reject@lmtp.test", "ok2@lmtp.test"],
                       b"Subject: lmtp\r\n\r\nper recipient\r\n")
            s.quit()
            got = lmtp.wait(1)[0]
            t.eq("LMTP recipients", got[1], ["ok1@lmtp.test", "reject@lmtp.test", "ok2@lmtp.test"])
            mx.wait_event("delivery.bounced", lambda e: e.get("recipients") == ["reject@lmtp.test"])
            ok = mx.wait_event("delivery.success", lambda e: "ok1@lmtp.test" in e.get("recipients", []))
            t.eq("both good LMTP recipients delivered in one event", sorted(ok[0]["recipients"]), ["ok1@lmtp.test", "ok2@lmtp.test"])
            # the DSN goes to owner@example.test, i.e. downstream to the home box
            msgs = home.wait(3)
            dsn = msgs[2]
            t.eq("DSN from the null sender", dsn[0], "")
            t.eq("DSN to the original sender", dsn[1], ["owner@example.test"])
            t.true("DSN is a multipart/report delivery-status", b"multipart/report" in dsn[2] and b"delivery-status" in dsn[2])
            t.true("DSN names the failed recipient and status", b"reject@lmtp.test" in dsn[2] and b"Status: 5.1.1" in dsn[2], dsn[2][:2000])
            t.true("DSN does not list delivered recipients as failed", b"Final-Recipient: rfc822;ok1@lmtp.test" not in dsn[2])
            time.sleep(1.5)
            t.eq("exactly one DSN", len(home.received), 3)

            # 4. a bounce of a bounce never happens: null sender, failing recipient
            s = smtplib.SMTP(*MX)
            s.ehlo("client.elsewhere.test")
            s.sendmail("", ["reject@lmtp.test"], b"Subject: bounce of bounce\r\n\r\nx\r\n")
            s.quit()
            mx.wait_event("delivery.bounced", count=2)
            time.sleep(1.5)
            t.eq("no DSN to <>", len(home.received), 3)

            # 4b. RFC 3461 NOTIFY=NEVER: the recipient fails, and no DSN is sent
            s = smtplib.SMTP(*MX)
            s.ehlo("client.elsewhere.test")
            t.true("DSN advertised", s.has_extn("dsn"))
            s.sendmail("owner@example.test", ["reject@lmtp.test"], b"Subject: notify never\r\n\r\nx\r\n",
                       rcpt_options=["NOTIFY=NEVER"])
            s.quit()
            mx.wait_event("delivery.bounced", count=3)
            time.sleep(1.5)
            t.eq("no DSN for NOTIFY=NEVER", len(home.received), 3)

            # 5. Postfix's smtp-sink as home box, swaks as client, several messages
            for i in range(5):
                r = subprocess.run(["swaks", "--server", f"{MX[0]}:{MX[1]}", "--to", f"user{i}@sink.test",
                                    "--from", "bob@elsewhere.test", "--pipeline"], capture_output=True, text=True, timeout=30)
                t.true(f"swaks message {i} queued", "Ok: queued as" in r.stdout, r.stdout[-300:])
            sink.wait_messages(5)
            t.eq("smtp-sink received all five", len(sink.messages()), 5)

            # 6. queue is empty again, and status shows the routes up
            deadline = time.time() + 10
            while time.time() < deadline and "queue is empty" not in mx.run("queue", "list").stdout:
                time.sleep(0.2)
            t.true("queue drained", "queue is empty" in mx.run("queue", "list").stdout)
            st = mx.run("status")
            t.eq("status exit", st.returncode, 0)
            t.true("status shows example.test up", "example.test" in st.stdout and " up " in st.stdout, st.stdout)
    finally:
        home.stop()
        lmtp.stop()
        sink.stop()
        dns.stop()
    t.done()


if __name__ == "__main__":
    main()
