"""Inbound sender authentication at end of data (issue 4, SPEC §6): From:
rules, DMARC (p, sp inheritance, pct, strict/relaxed alignment, quarantine
modes) fed with mxgate's real SPF (libspf2) and DKIM (libopendkim)
results, SPF fail, DNS SERVFAIL, own-domain spoofing (header and envelope,
allow-list), Authentication-Results.

Real peers: a real DNS server (unbound, lib/dnsserver.py) holding SPF
records, DKIM keys and DMARC records; messages signed for real with
python3-dkim; raw SMTP from 127.0.7.11 as the sender; a byte-exact capture
server as the home box.
Addresses: 127.0.7.x (mx 127.0.7.1:2525, home box 127.0.7.2:2526, DNS
127.0.7.53:5353).
"""

import os
import re
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import CaptureSink, Check, Mxgate, RawSmtp, skip  # noqa: E402
from lib import dkimkeys  # noqa: E402
from lib.dkimkeys import import_dkim  # noqa: E402

dkim = import_dkim()

MX = ("127.0.7.1", 2525)
CLIENT = "127.0.7.11"  # the address the test's SPF records authorise
CONFIG = """
hostname: mx.inbound.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.7.1:2525", tls: none }
dns: { resolver: "127.0.7.53:5353" }
domains:
  - name: home.test
    recipients: ["@home.test"]
    downstream: { address: "127.0.7.2:2526", tls: none }
policy:
  dmarc: { enforce: true, quarantine: QUARANTINE }
  own_domain_spoofing: reject
  own_domain_senders: [newsletter.test]
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
"""

RECORDS = [
    '_dmarc.reject.test. TXT "v=DMARC1; p=reject"',
    '_dmarc.quar.test. TXT "v=DMARC1; p=quarantine"',
    '_dmarc.none.test. TXT "v=DMARC1; p=none"',
    '_dmarc.pct0.test. TXT "v=DMARC1; p=reject; pct=0"',
    '_dmarc.parent.test. TXT "v=DMARC1; p=reject; sp=none"',
    '_dmarc.inherit.test. TXT "v=DMARC1; p=reject"',
    # not a DMARC record: v= must come first (libopendmarc alone accepts it)
    '_dmarc.order.test. TXT "p=reject; v=DMARC1"',
    'none.test. A 192.0.2.1',
    # DKIM alignment, strict and relaxed
    '_dmarc.strict.test. TXT "v=DMARC1; p=reject; adkim=s; aspf=s"',
    # SPF
    'spfok.test. TXT "v=spf1 ip4:127.0.7.11 -all"',
    '_dmarc.spfok.test. TXT "v=DMARC1; p=reject"',
    'bounce.strict.test. TXT "v=spf1 ip4:127.0.7.11 -all"',
    'bounce.reject.test. TXT "v=spf1 ip4:127.0.7.11 -all"',
    'spffail.test. TXT "v=spf1 ip4:192.0.2.1 -all"',
]
DKIM_DOMAINS = ["reject.test", "strict.test", "none.test", "home.test", "newsletter.test", "other.test"]
SERVFAIL = ["_dmarc.broken.test."]


def session():
    c = RawSmtp(*MX, source=CLIENT)
    c.reply()
    c.cmd("EHLO client.elsewhere.test")
    return c


KEY = {}


def make_key(workdir):
    KEY["private"], public = dkimkeys.make_key(workdir)
    return public


def signed(headers, domain, body="body\r\n", tamper=False):
    """headers + body signed by `domain` (selector sel) with python3-dkim; returns the
    raw message text (CRLF)."""
    raw = (headers.replace("\n", "\r\n") + "\r\n" + body).encode()
    sig = dkim.sign(raw, b"sel", domain.encode(), KEY["private"],
                    include_headers=[b"from", b"subject", b"to"])
    out = (sig + raw).decode()
    return out.replace("body", "BODY") if tamper else out


def send(headers, sender="sender@elsewhere.test", rcpt="alice@home.test", body="body\r\n", raw=None):
    """One message (headers + body, or `raw`); returns (code, text) of the end-of-data reply."""
    c = session()
    try:
        code, text = c.cmd(f"MAIL FROM:<{sender}>")
        if code != 250:
            return code, text
        code, text = c.cmd(f"RCPT TO:<{rcpt}>")
        if code != 250:
            return code, text
        c.cmd("DATA")
        data = raw if raw is not None else headers.replace("\n", "\r\n") + "\r\n" + body
        c.send(data + ".\r\n")
        return c.reply()
    finally:
        c.close()


def main():
    t = Check()
    pub = make_key(tempfile.mkdtemp(prefix="inbound-key-"))
    key_record = "v=DKIM1; k=rsa; p=" + pub
    strings = " ".join('"%s"' % key_record[i:i + 255] for i in range(0, len(key_record), 255))  # 255-octet strings
    records = RECORDS + ["sel._domainkey.%s. TXT %s" % (d, strings) for d in DKIM_DOMAINS]
    try:
        dns = DnsServer("127.0.7.53", 5353, records=records, servfail=SERVFAIL).start()
    except DnsServerUnavailable as e:
        skip(str(e))
    home = CaptureSink("127.0.7.2", 2526).start()
    try:
        with Mxgate(CONFIG.replace("QUARANTINE", "header"), name="inbound") as mx:
            mx.start(wait_for=[MX])
            delivered = 0

            def expect(what, headers, code, esc=None, text=None, **kw):  # noqa: C901
                nonlocal delivered
                got, reply = send(headers or "", **kw)
                ok = got == code and (esc is None or f" {esc} " in reply) and (text is None or text in reply)
                t.true(what, ok, f"got {reply!r}")
                if got == 250:
                    delivered += 1
                return reply

            def delivered_msg(subject):
                """The delivered message with this Subject: (deliveries may come in any order)."""
                deadline = time.time() + 20
                needle = b"\r\nSubject: " + subject.encode() + b"\r\n"
                while time.time() < deadline:
                    for _, _, data in list(home.received):
                        if needle in data:
                            return data
                    time.sleep(0.05)
                raise AssertionError("no delivered message with Subject: " + subject)

            # --- DMARC p=none: delivered, forged A-R of ours removed, others kept
            expect("p=none: delivered",
                   "Authentication-Results: mx.inbound.test; dmarc=pass header.from=reject.test\n"
                   "Authentication-Results: (forged) MX.INBOUND.TEST;\n\tspf=pass\n"
                   "Authentication-Results: other.example; spf=pass\n"
                   "From: Alice <alice@none.test>\nSubject: none\n", 250)
            data = delivered_msg('none')
            head = data.split(b"\r\n\r\n", 1)[0]
            ours = re.findall(rb"^Authentication-Results: mx\.inbound\.test", head, re.M | re.I)
            t.eq("exactly one Authentication-Results of ours", len(ours), 1)
            t.true("ours says dmarc=fail p=none", b"dmarc=fail (p=none dis=none) header.from=none.test" in head, head)
            t.true("forged A-R with our id removed", b"dmarc=pass header.from=reject.test" not in data and b"(forged)" not in data, head)
            t.true("other A-R kept", b"Authentication-Results: other.example; spf=pass" in head, head)
            t.true("body unchanged", data.endswith(b"\r\n\r\nbody\r\n"), data[-50:])
            t.true("no X-Spam-Flag for p=none", b"X-Spam-Flag" not in head, head)
            ev = mx.wait_event("policy.dmarc", lambda e: e.get("domain") == "none.test")[0]
            t.eq("policy.dmarc event", (ev.get("result"), ev.get("policy"), ev.get("disposition")), ("fail", "none", "none"))

            # --- p=reject, no aligned SPF/DKIM: 550 with the reason, nothing delivered
            expect("p=reject: 550 5.7.1 naming the domain", "From: ceo@reject.test\nSubject: r\n", 550, "5.7.1", "reject.test")
            ev = mx.wait_event("policy.reject", lambda e: "reject.test" in e.get("reason", ""))[0]
            t.eq("policy.reject carries the code", ev.get("code"), "550")

            # --- quarantine: header mode
            expect("p=quarantine (header): delivered", "From: a@quar.test\nSubject: q\n", 250)
            head = delivered_msg('q').split(b"\r\n\r\n", 1)[0]
            t.true("quarantine: X-Spam-Flag: YES", b"\r\nX-Spam-Flag: YES\r\n" in head, head)
            t.true("quarantine: dmarc=fail in A-R", b"dmarc=fail (p=quarantine dis=quarantine) header.from=quar.test" in head, head)

            # --- pct=0 under p=reject: sampled out → quarantine (header)
            expect("p=reject pct=0: delivered as quarantine", "From: a@pct0.test\nSubject: pct\n", 250)
            head = delivered_msg('pct').split(b"\r\n\r\n", 1)[0]
            t.true("pct=0: quarantine disposition", b"dmarc=fail (p=reject dis=quarantine)" in head and b"X-Spam-Flag: YES" in head, head)

            # --- sp: subdomain policy and inheritance of p
            expect("sp=none: a subdomain is delivered", "From: a@sub.parent.test\nSubject: sp\n", 250)
            head = delivered_msg('sp').split(b"\r\n\r\n", 1)[0]
            t.true("sp=none: A-R shows the policy", b"dmarc=fail (p=none dis=none) header.from=sub.parent.test" in head, head)
            expect("sp=none: the parent's own p=reject applies to itself", "From: a@parent.test\nSubject: sp\n", 550, "5.7.1")
            expect("no sp: a subdomain inherits p=reject", "From: a@deep.sub.inherit.test\nSubject: sp\n", 550, "5.7.1", "inherit")
            expect("a record with v= not first is no record", "From: a@order.test\nSubject: order\n", 250)

            # --- From: rules
            expect("no From:", "Subject: none\n", 550, "5.7.1", "no From")
            expect("two From:", "From: a@none.test\nFrom: b@none.test\n", 550, "5.7.1", "more than one From")
            expect("two mailboxes without Sender:", "From: a@none.test, b@none.test\n", 550, "5.7.1", "Sender")
            expect("two mailboxes with Sender:", "From: a@none.test, b@none.test\nSender: a@none.test\n", 250)
            expect("empty group", "From: undisclosed-recipients:;\n", 550, "5.7.1", "no address")
            expect("empty From:", "From:\n", 550, "5.7.1")
            expect("unparseable From:", "From: alice\n", 550, "5.7.1")
            expect("display name holding another address", 'From: "a@none.test" <x@reject.test>\n', 550, "5.7.1", "reject.test")
            expect("encoded word holding another address",
                   "From: =?utf-8?q?a=40none=2Etest?= <x@reject.test>\n", 550, "5.7.1", "reject.test")
            expect("comment before the domain", "From: x@(none.test)reject.test\n", 550, "5.7.1", "reject.test")
            expect("comment after the domain", "From: x@reject.test (none.test)\n", 550, "5.7.1", "reject.test")
            expect("folded From:", "From: Alice\n <x@reject.test>\n", 550, "5.7.1", "reject.test")
            expect("From: case-insensitive and with obs WSP", "FROM : x@reject.test\n", 550, "5.7.1", "reject.test")
            expect("From: only in the body does not count", "Subject: x\n", 550, "5.7.1", "no From", body="From: a@none.test\r\n")

            # --- own-domain spoofing (header)
            expect("From: an owner's domain, unauthenticated", "From: boss@home.test\nSubject: s\n", 550, "5.7.1", "home.test")
            expect("From: a subdomain of an owner's domain", "From: boss@mail.home.test\nSubject: s\n", 550, "5.7.1", "home.test")

            # --- temporary DNS failure: 451, never a silent pass
            expect("DMARC lookup SERVFAIL: 451 4.7.0", "From: a@broken.test\nSubject: s\n", 451, "4.7.0", "broken.test")

            # --- DKIM (libopendkim) and SPF (libspf2) feeding DMARC
            h = "From: a@reject.test\nTo: alice@home.test\nSubject: dkim aligned\n"
            expect("p=reject, aligned DKIM pass: delivered", None, 250, raw=signed(h, "reject.test"))
            head = delivered_msg('dkim aligned').split(b"\r\n\r\n", 1)[0]
            t.true("A-R: dkim=pass header.d=reject.test", b"dkim=pass header.d=reject.test header.s=sel" in head, head)
            t.true("A-R: dmarc=pass", b"dmarc=pass (p=reject dis=none) header.from=reject.test" in head, head)
            t.true("A-R: spf result for the envelope", b"spf=none smtp.mailfrom=elsewhere.test" in head, head)
            ev = mx.wait_event("policy.dkim", lambda e: e.get("domain") == "reject.test")[0]
            t.eq("policy.dkim event", ev.get("result"), "pass")
            h = "From: a@reject.test\nTo: alice@home.test\nSubject: dkim other\n"
            expect("p=reject, DKIM pass for another domain: 550", None, 550, "5.7.1", "reject.test",
                   raw=signed(h, "other.test"))
            h = "From: a@reject.test\nTo: alice@home.test\nSubject: dkim tampered\n"
            expect("p=reject, DKIM broken by a changed body: 550", None, 550, "5.7.1", "reject.test",
                   raw=signed(h, "reject.test", tamper=True))
            h = "From: a@mail.reject.test\nTo: alice@home.test\nSubject: relaxed\n"
            expect("relaxed adkim: d=reject.test aligns with mail.reject.test", None, 250, raw=signed(h, "reject.test"))
            h = "From: a@strict.test\nTo: alice@home.test\nSubject: strict same\n"
            expect("adkim=s: d= equal to the From: domain passes", None, 250, raw=signed(h, "strict.test"))
            h = "From: a@sub.strict.test\nTo: alice@home.test\nSubject: strict parent\n"
            expect("adkim=s: d= the parent of the From: domain fails (libopendmarc 1.4.2 would pass it)", None,
                   550, "5.7.1", "sub.strict.test", raw=signed(h, "strict.test"))

            expect("p=reject, aligned SPF pass: delivered", "From: x@spfok.test\nSubject: spf\n", 250, sender="x@spfok.test")
            head = delivered_msg('spf').split(b"\r\n\r\n", 1)[0]
            t.true("A-R: spf=pass and dmarc=pass", b"spf=pass smtp.mailfrom=spfok.test" in head and b"dmarc=pass" in head, head)
            expect("relaxed aspf: SPF pass for bounce.reject.test aligns with reject.test",
                   "From: x@reject.test\nSubject: spf relaxed\n", 250, sender="x@bounce.reject.test")
            expect("aspf=s: SPF pass for bounce.strict.test does not align with strict.test",
                   "From: x@strict.test\nSubject: spf strict\n", 550, "5.7.1", "strict.test", sender="x@bounce.strict.test")
            expect("p=reject, SPF and DKIM both failing: 550", "From: x@reject.test\nSubject: both\n", 550, "5.7.1",
                   sender="x@spffail.test")

            # --- SPF fail → 550 5.7.23 unless an aligned DKIM signature is present
            expect("SPF fail, no DKIM: 550 5.7.23", "From: x@none.test\nSubject: spf fail\n", 550, "5.7.23",
                   "spffail.test", sender="x@spffail.test")
            h = "From: x@none.test\nTo: alice@home.test\nSubject: spf fail dkim\n"
            expect("SPF fail with a DKIM pass aligned with From:: delivered", None, 250, sender="x@spffail.test",
                   raw=signed(h, "none.test"))

            # --- own-domain spoofing: envelope, aligned DKIM, allow-list
            expect("MAIL FROM an owner's domain, unauthenticated", "From: a@none.test\nSubject: s\n", 550, "5.7.1",
                   "MAIL FROM", sender="boss@home.test")
            h = "From: ceo@home.test\nTo: alice@home.test\nSubject: own dkim\n"
            expect("From: an owner's domain with an aligned DKIM pass: delivered", None, 250, raw=signed(h, "home.test"))
            h = "From: news@home.test\nTo: alice@home.test\nSubject: newsletter\n"
            expect("From: an owner's domain signed by an allow-listed sender: delivered", None, 250,
                   raw=signed(h, "newsletter.test"))
            h = "From: news@home.test\nTo: alice@home.test\nSubject: not listed\n"
            expect("From: an owner's domain signed by a sender not on the list: 550", None, 550, "5.7.1", "home.test",
                   raw=signed(h, "other.test"))

            time.sleep(1.0)
            t.eq("only the accepted messages reached the home box", len(home.received), delivered)

            # --- quarantine: hold (SIGHUP to the new mode)
            mx.write_config(CONFIG.replace("QUARANTINE", "hold"))
            mx.signal(signal.SIGHUP)
            time.sleep(1.0)
            reply = expect("p=quarantine (hold): accepted", "From: a@quar.test\nSubject: held\n", 250)
            delivered -= 1  # held, not delivered
            qid = reply.split("queued as ")[-1].strip()
            mx.wait_event("queue.held", lambda e: e.get("queue_id") == qid)
            time.sleep(1.5)
            t.eq("held message not delivered", len(home.received), delivered)
            listing = mx.run("queue", "list").stdout
            t.true("queue list shows it held", qid in listing and "held" in listing.lower(), listing)
            r = mx.run("queue", "release", qid)
            t.eq("queue release exits 0", r.returncode, 0)
            delivered += 1
            data = delivered_msg('held')
            t.true("released message delivered with dmarc=fail", b"Subject: held" in data and b"dmarc=fail" in data, data[:600])

            # --- quarantine: reject
            mx.write_config(CONFIG.replace("QUARANTINE", "reject"))
            mx.signal(signal.SIGHUP)
            time.sleep(1.0)
            expect("p=quarantine (reject): 550", "From: a@quar.test\nSubject: q\n", 550, "5.7.1", "quar.test")
            time.sleep(1.0)
            t.eq("nothing more delivered", len(home.received), delivered)
    finally:
        home.stop()
        dns.stop()
    t.done()


if __name__ == "__main__":
    main()
