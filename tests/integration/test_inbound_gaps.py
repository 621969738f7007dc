#!/usr/bin/env python3
"""Inbound sender authentication, the gaps of issue 4 (SPEC §6):

  * several DKIM signatures are evaluated independently (RFC 6376 §6.1):
    a signature whose key lookup SERVFAILs is dkim=temperror and does not
    hide another signature's pass (in either order) or fail; it matters only
    when no aligned pass exists, and then the answer is 451 4.7.0 — never a
    silent pass and never a 550 (DMARC, SPF-fail exception, own domain);
  * strict DKIM alignment with d= a *child* of the From: domain (adkim=s,
    d=sub.strict.test, From: strict.test) fails, relaxed passes;
  * sp inheritance in the directions libopendmarc 1.4.2 is not trusted
    with: p=none with sp=reject/quarantine, deep subdomains, a subdomain
    with a record of its own;
  * pct=50 really samples (both outcomes seen over 30 messages) and
    pct=100 always applies;
  * both identifiers failing under p=reject: 550 and that very message
    never reaches the home box; DMARC is evaluated for every author of a
    multi-mailbox From: under Sender:.

Real peers: a private unbound (lib/dnsserver.py) on 127.0.24.53 holding
SPF records, DKIM keys (one selector answered SERVFAIL) and DMARC records;
messages signed for real with python3-dkim; raw SMTP from 127.0.24.11; a
byte-exact capture server as the home box. Addresses: 127.0.24.x.

Exit 0 pass, 77 skip (a peer is missing), else fail.
"""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.dnsserver import DnsServer, DnsServerUnavailable, free_port  # noqa: E402
from lib.harness import CaptureSink, Check, Mxgate, raw_transaction, skip  # noqa: E402
from lib.dkimkeys import import_dkim, make_key, txt  # noqa: E402

dkim = import_dkim()

MX = ("127.0.24.1", 2525)
HOME = ("127.0.24.2", 2526)
DNS_ADDR = "127.0.24.53"
REPORT_MX = ("127.0.24.25", 25)
CLIENT = "127.0.24.11"  # the address spfok.test authorises

CONFIG = """
hostname: mx.gaps.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "%s:%d", tls: none }
dns: { resolver: "%s" }
domains:
  - name: home.test
    recipients: ["@home.test"]
    downstream: { address: "%s:%d", tls: none }
policy:
  dmarc:
    enforce: true
    quarantine: header
    reports: { enabled: true, contact: postmaster@home.test }
  own_domain_spoofing: reject
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
"""

DMARC = {
    "dual.test": "v=DMARC1; p=reject",
    "strict.test": "v=DMARC1; p=reject; adkim=s",
    "relax.test": "v=DMARC1; p=reject",
    "spr.test": "v=DMARC1; p=none; sp=reject",
    "own.spr.test": "v=DMARC1; p=none",
    "spq.test": "v=DMARC1; p=reject; sp=quarantine",
    "pct50.test": "v=DMARC1; p=reject; pct=50",
    "pct100.test": "v=DMARC1; p=reject; pct=100",
    "reject.test": "v=DMARC1; p=reject",
    "spft.test": "v=DMARC1; p=reject",
    # rua: https only, and https beside mailto (RFC 7489 §7.2.1.1 requires only mailto)
    "httpsonly.test": "v=DMARC1; p=none; rua=https://reports.example/dmarc",
    "mixed.test": "v=DMARC1; p=none; rua=https://reports.example/dmarc, mailto:dmarc@reports.mixed.test",
}
# Selectors with a key; "bad" selectors are answered SERVFAIL.
KEYS = [("good", "dual.test"), ("good", "other.test"), ("good", "sub.strict.test"), ("good", "sub.relax.test"),
        ("good", "nodmarc.test"), ("good", "home.test")]
SERVFAIL = ["bounce.spft.test.", "bad._domainkey.dual.test.", "bad._domainkey.nodmarc.test.", "bad._domainkey.home.test."]


def sign(raw, domain, selector, key):
    return dkim.sign(raw, selector.encode(), domain.encode(), key, include_headers=[b"from", b"to", b"subject"])


def message(frm, subject, extra=""):
    return ("From: %s\r\nTo: <alice@home.test>\r\nSubject: %s\r\n%s"
            "Date: Sun, 22 Nov 2026 12:00:00 +0000\r\nMessage-ID: <%s@gaps.test>\r\n\r\nHello.\r\n"
            % (frm, subject, extra, re.sub(r"\W", "-", subject))).encode()


def send(data, sender="bounce@elsewhere.test"):
    """One transaction; returns (code, text) of the end-of-data reply (or the failing command's)."""
    return raw_transaction(MX, sender, "alice@home.test", data, helo="client.gaps.test", source=CLIENT)[-1]


def main():
    t = Check()
    workdir = tempfile.mkdtemp(prefix="inbound-gaps-")
    key, pub = make_key(workdir)
    records = [txt("_dmarc." + d, r) for d, r in DMARC.items()]
    records += [txt("%s._domainkey.%s" % (s, d), "v=DKIM1; k=rsa; p=" + pub) for s, d in KEYS]
    # The owner's domain's SPF record includes a name answered SERVFAIL:
    # SPF temperror for MAIL FROM @home.test (RFC 7208 §5.2), while its
    # _dmarc and DKIM key names still answer.
    records += [txt("home.test", "v=spf1 include:bounce.spft.test -all")]
    records += [txt("spfok.test", "v=spf1 ip4:%s -all" % CLIENT),
                txt("spffail.test", "v=spf1 ip4:192.0.2.1 -all"),
                txt("spf-cve.test", "v=spf1 exists:" + "a%{l}" * 60 + ".example.org -all"),
                txt("spf-digits.test", "v=spf1 exists:%{l999999999r}.example.org -all"),
                txt("spf-long.test", "v=spf1 exists:" + "a" * 300 + "%{d}.example.org -all"),
                "reports.mixed.test. MX 10 mx.rpt.test.", "mx.rpt.test. A %s" % REPORT_MX[0]]
    try:
        dns = DnsServer(DNS_ADDR, free_port(DNS_ADDR), records=records, servfail=SERVFAIL, zones=["test."]).start()
    except DnsServerUnavailable as e:
        skip(str(e))
    home = CaptureSink(*HOME).start()
    reports = CaptureSink(*REPORT_MX).start()
    try:
        with Mxgate(CONFIG % (MX[0], MX[1], dns.endpoint, HOME[0], HOME[1]), name="gaps") as mx:
            mx.start(wait_for=[MX])

            def delivered(subject, timeout=20.0):
                """The delivered message with this Subject:, or None after `timeout`."""
                needle = b"\r\nSubject: " + subject.encode() + b"\r\n"
                deadline = time.time() + timeout
                while True:
                    for _, _, data in list(home.received):
                        if needle in data:
                            return data
                    if time.time() >= deadline:
                        return None
                    time.sleep(0.05)

            def head_of(subject):
                data = delivered(subject)
                return data.split(b"\r\n\r\n", 1)[0] if data else b""

            def expect(what, data, code, esc=None, text=None, sender="bounce@elsewhere.test"):
                got, reply = send(data, sender)
                ok = got == code and (esc is None or (" %s " % esc) in reply) and (text is None or text in reply)
                t.true(what, ok, "got %d %r" % (got, reply))
                return reply

            # --- 1. two signatures, one key lookup SERVFAIL: each evaluated on its own
            raw = message("<a@dual.test>", "temperror on top")
            good = sign(raw, "dual.test", "good", key)
            bad = sign(good + raw, "dual.test", "bad", key)
            expect("SERVFAIL signature on top of an aligned pass: delivered", bad + good + raw, 250)
            head = head_of("temperror on top")
            t.true("A-R (SERVFAIL on top): dkim=pass for the good signature",
                   b"dkim=pass header.d=dual.test header.s=good" in head, head)
            t.true("A-R (SERVFAIL on top): dkim=temperror for the other",
                   b"dkim=temperror header.d=dual.test header.s=bad" in head, head)
            t.true("A-R (SERVFAIL on top): dmarc=pass", b"dmarc=pass (p=reject dis=none) header.from=dual.test" in head,
                   head)

            raw = message("<a@dual.test>", "temperror below")
            bad = sign(raw, "dual.test", "bad", key)
            good = sign(bad + raw, "dual.test", "good", key)
            expect("SERVFAIL signature below an aligned pass: delivered", good + bad + raw, 250)
            head = head_of("temperror below")
            t.true("A-R (SERVFAIL below): dkim=pass for the good signature",
                   b"dkim=pass header.d=dual.test header.s=good" in head, head)
            t.true("A-R (SERVFAIL below): dkim=temperror for the other",
                   b"dkim=temperror header.d=dual.test header.s=bad" in head, head)
            # The A-R lists the signatures in header order.
            t.true("A-R (SERVFAIL below): header order kept",
                   head.find(b"header.s=good") < head.find(b"header.s=bad"), head)
            evs = [e for e in mx.events("policy.dkim") if e.get("domain") == "dual.test"]
            t.eq("policy.dkim events: two pass, two temperror",
                 sorted(e.get("result") for e in evs), ["pass", "pass", "temperror", "temperror"])

            # The temperror hides no fail either: no aligned pass → 451, not a pass, not a 550.
            raw = message("<a@dual.test>", "temperror and fail")
            good = sign(raw, "dual.test", "good", key)
            bad = sign(good + raw, "dual.test", "bad", key)
            expect("SERVFAIL signature + a broken aligned one under p=reject: 451 4.7.0",
                   bad + good + raw.replace(b"Hello.", b"Hello!"), 451, "4.7.0", "dual.test")
            time.sleep(0.2)
            ev = [e for e in mx.events("policy.dkim") if e.get("domain") == "dual.test" and e.get("result") == "fail"]
            t.eq("the broken signature is reported as fail beside the temperror", len(ev), 1)
            raw = message("<a@dual.test>", "temperror and unaligned pass")
            other = sign(raw, "other.test", "good", key)
            bad = sign(other + raw, "dual.test", "bad", key)
            expect("SERVFAIL aligned signature + a pass for another domain under p=reject: 451 4.7.0",
                   bad + other + raw, 451, "4.7.0", "dual.test")
            raw = message("<a@dual.test>", "temperror alone")
            expect("only an aligned SERVFAIL signature under p=reject: 451 4.7.0",
                   sign(raw, "dual.test", "bad", key) + raw, 451, "4.7.0")

            # At most 10 signatures are evaluated (top-most first); the rest are one A-R comment.
            raw = message("<a@dual.test>", "many signatures")
            good = sign(raw, "dual.test", "good", key)
            other = sign(raw, "other.test", "good", key)
            expect("an aligned pass on top of 14 more signatures: delivered", good + other * 14 + raw, 250)
            head = head_of("many signatures")
            t.eq("A-R: ten signatures evaluated", len(re.findall(rb"dkim=pass header\.d=", head)), 10)
            t.true("A-R: the other five summed up as dkim=policy",
                   b"dkim=policy (5 more signatures not evaluated, the limit is 10)" in head, head)
            t.true("A-R: dmarc=pass", b"dmarc=pass (p=reject dis=none) header.from=dual.test" in head, head)

            # SPF fail: the DKIM exception might hold → 451; without the temperror → 550 5.7.23.
            raw = message("<a@nodmarc.test>", "spf fail temperror")
            expect("SPF fail + only a SERVFAIL signature aligned with From: → 451 4.7.0",
                   sign(raw, "nodmarc.test", "bad", key) + raw, 451, "4.7.0", sender="x@spffail.test")
            raw = message("<a@nodmarc.test>", "spf fail temperror and pass")
            good = sign(raw, "nodmarc.test", "good", key)
            bad = sign(good + raw, "nodmarc.test", "bad", key)
            expect("SPF fail + SERVFAIL signature + aligned pass → delivered", bad + good + raw, 250,
                   sender="x@spffail.test")
            raw = message("<a@nodmarc.test>", "spf fail no dkim")
            expect("SPF fail without DKIM → 550 5.7.23", raw, 550, "5.7.23", sender="x@spffail.test")

            # Own domain: a SERVFAIL signature for it → 451, a pass beside it → delivered.
            raw = message("<ceo@home.test>", "own temperror")
            expect("From: the owner's domain with only a SERVFAIL signature: 451 4.7.0",
                   sign(raw, "home.test", "bad", key) + raw, 451, "4.7.0", "home.test")
            raw = message("<ceo@home.test>", "own temperror and pass")
            good = sign(raw, "home.test", "good", key)
            bad = sign(good + raw, "home.test", "bad", key)
            expect("From: the owner's domain, SERVFAIL signature + aligned pass: delivered", bad + good + raw, 250)
            # Own domain on the envelope: SPF temperror could have been the
            # pass that authorises it → 451, never 550 and never delivered;
            # the same temperror for a stranger's domain without DMARC passes.
            raw = message("<a@nodmarc.test>", "own envelope spf temperror")
            expect("MAIL FROM the owner's domain, SPF temperror, no DKIM: 451 4.7.0",
                   raw, 451, "4.7.0", sender="ceo@home.test")
            raw = message("<a@nodmarc.test>", "stranger envelope spf temperror")
            expect("MAIL FROM a stranger's domain, same SPF temperror, no DMARC: delivered",
                   raw, 250, sender="x@bounce.spft.test")

            # --- 2. strict alignment with d= a child of the From: domain
            raw = message("<a@strict.test>", "strict child")
            expect("adkim=s: d=sub.strict.test does not align with From: strict.test → 550",
                   sign(raw, "sub.strict.test", "good", key) + raw, 550, "5.7.1", "strict.test")
            raw = message("<a@relax.test>", "relaxed child")
            expect("adkim=r: d=sub.relax.test aligns with From: relax.test → delivered",
                   sign(raw, "sub.relax.test", "good", key) + raw, 250)

            # --- 3. sp inheritance
            expect("p=none sp=reject: the organisational domain itself is delivered",
                   message("<a@spr.test>", "spr parent"), 250)
            expect("p=none sp=reject: a subdomain is refused", message("<a@sub.spr.test>", "spr sub"), 550, "5.7.1",
                   "sub.spr.test")
            expect("p=none sp=reject: a deep subdomain is refused", message("<a@x.y.spr.test>", "spr deep"), 550,
                   "5.7.1")
            expect("a subdomain's own record (p=none) wins over the parent's sp=reject",
                   message("<a@own.spr.test>", "spr own"), 250)
            expect("p=reject sp=quarantine: a subdomain is quarantined, not refused",
                   message("<a@sub.spq.test>", "spq sub"), 250)
            head = head_of("spq sub")
            t.true("sp=quarantine: X-Spam-Flag and dis=quarantine",
                   b"X-Spam-Flag: YES" in head and b"dmarc=fail (p=quarantine dis=quarantine)" in head, head)
            expect("p=reject sp=quarantine: the parent is refused", message("<a@spq.test>", "spq parent"), 550, "5.7.1")

            # --- 4. pct
            expect("pct=100: always refused", message("<a@pct100.test>", "pct100"), 550, "5.7.1", "pct100.test")
            outcomes = {}
            for i in range(30):
                code, _ = send(message("<a@pct50.test>", "pct50 %d" % i))
                outcomes[code] = outcomes.get(code, 0) + 1
            t.true("pct=50 samples: some refused (550) and some spared (250) in 30 messages",
                   outcomes.get(550, 0) > 0 and outcomes.get(250, 0) > 0 and
                   outcomes.get(550, 0) + outcomes.get(250, 0) == 30, outcomes)

            # --- 5. both failing under p=reject: 550, and this message never reaches the home box
            expect("p=reject, SPF fail and no DKIM: 550 5.7.1", message("<a@reject.test>", "both failing"), 550, "5.7.1",
                   "reject.test", sender="x@spffail.test")
            raw = message("<a@reject.test>", "both failing signed")
            expect("p=reject, SPF fail and DKIM for another domain: 550",
                   sign(raw, "other.test", "good", key) + raw, 550, "5.7.1", "reject.test", sender="x@spffail.test")
            # Multi-mailbox From: under Sender: every author's DMARC applies.
            expect("From: two authors under Sender:, one with p=reject failing: 550",
                   message("<a@spr.test>, <b@reject.test>", "two authors", "Sender: <a@spr.test>\r\n"), 550, "5.7.1",
                   "reject.test")
            time.sleep(1.5)  # deliveries of everything accepted above are done by now
            for subject in ("both failing", "both failing signed", "two authors", "temperror alone",
                            "temperror and fail", "own temperror", "strict child", "spr sub",
                            "own envelope spf temperror"):
                t.true("not delivered: " + subject, delivered(subject, timeout=0) is None)
            refused = [e for e in mx.events("policy.reject") if "reject.test" in e.get("reason", "")]
            t.true("policy.reject events for the refusals", len(refused) >= 3, refused)

            # --- 6. SPF SERVFAIL alone (DMARC record reachable), p=reject: 451, never a pass or a 550
            expect("SPF temperror (SERVFAIL) with no other identifier under p=reject: 451 4.7.0",
                   message("<a@spft.test>", "spf servfail"), 451, "4.7.0", "spft.test", sender="x@bounce.spft.test")
            ev = mx.wait_event("policy.spf", lambda e: e.get("domain") == "bounce.spft.test")[0]
            t.eq("policy.spf says temperror", ev.get("result"), "temperror")

            # CVE-2023-42118 (libspf2 1.2.10 unpatched): hostile records never reach
            # libspf2's compiler. The reason shows mxgate's pre-check refused them
            # (libspf2 alone also answers permerror for the first, so the result
            # by itself could not tell).
            for domain in ("spf-cve.test", "spf-digits.test", "spf-long.test"):
                send(message("<a@nodmarc.test>", "hostile " + domain), sender="x@" + domain)
                ev = mx.wait_event("policy.spf", lambda e, d=domain: e.get("domain") == d)[0]
                t.true("hostile SPF record at %s: permerror from the pre-check" % domain,
                       ev.get("result") == "permerror" and
                       ("invalid SPF record at " + domain) in ev.get("reason", ""), ev)
            t.true("mxgate alive after the hostile records", mx.proc.poll() is None)

            # --- 7. more From: forms: the domain DMARC judges is the one the reader sees
            for what, frm in [
                ("a group holding one mailbox", "team: x@reject.test;"),
                ("a quoted local part holding another address", '"a@none.test"@reject.test'),
                ("an obsolete route before the address", "<@none.test:x@reject.test>"),
                ("an upper-case domain", "x@REJECT.TEST"),
                ("an encoded word with a comma in the display name", "=?utf-8?q?a=2C_b=40none=2Etest?= <x@reject.test>"),
                ("a comment holding an address", "x@reject.test (a@none.test)"),
                ("folded between local part and domain", "x\r\n @reject.test"),
            ]:
                expect("From: %s → judged as reject.test (550)" % what,
                       message(frm, "trick " + what), 550, "5.7.1", "reject.test")
            expect("From: a domain literal is refused (no DMARC domain)", message("x@[192.0.2.1]", "literal"), 550,
                   "5.7.1")
            expect("From: a single-label domain is refused", message("x@localhost", "single label"), 550, "5.7.1")

            # --- 8. forged Authentication-Results in other shapes: folded before the id, nested comments
            forged = ("Authentication-Results:\r\n\tmx.gaps.test;\r\n dmarc=pass header.from=reject.test\r\n"
                      "Authentication-Results: (a (nested) comment)\r\n (more) MX.Gaps.Test; dkim=pass\r\n"
                      "Authentication-Results: mx.gaps.test.evil.test; spf=pass\r\n")
            expect("forged A-R of other shapes: delivered (p=none)",
                   forged.encode() + message("<a@spr.test>", "forged shapes"), 250)
            head = head_of("forged shapes")
            t.eq("forged shapes: exactly one A-R claiming our id is left (ours)",
                 len(re.findall(rb"^Authentication-Results:\s*(\([^\r]*\)\s*)*mx\.gaps\.test;", head,
                                re.M | re.I)), 1)
            t.true("forged shapes: the folded and the commented ones are gone",
                   b"header.from=reject.test" not in head and b"(nested)" not in head, head)
            t.true("forged shapes: a look-alike id is someone else's and kept",
                   b"Authentication-Results: mx.gaps.test.evil.test; spf=pass" in head, head)

            # --- 9. a non-mailto rua is skipped with an event, never silently
            expect("httpsonly.test (p=none): delivered", message("<a@httpsonly.test>", "rua https"), 250)
            expect("mixed.test (p=none): delivered", message("<a@mixed.test>", "rua mixed"), 250)
            mx.wait_event("policy.dmarc", lambda e: e.get("domain") == "mixed.test")
            pending = mx.run("report", "dmarc").stdout
            t.true("an https-only rua is still recorded (so the skip can be reported)",
                   "httpsonly.test: 1 messages" in pending and "mixed.test: 1 messages" in pending, pending)
            r = mx.run("report", "dmarc", "--send-now")
            t.eq("--send-now: the mailto report sent, the https-only one failed", r.stdout.strip(),
                 "ok sent 1 failed 1 deferred 0")
            skipped = mx.events("dmarc.report_skipped")
            t.eq("dmarc.report_skipped for both domains", sorted(e.get("domain") for e in skipped),
                 ["httpsonly.test", "mixed.test"])
            t.true("dmarc.report_skipped names the URI and why",
                   all(e.get("address") == "https://reports.example/dmarc" and "only mailto:" in e.get("reason", "")
                       and "https" in e.get("reason", "") for e in skipped), skipped)
            failed = [e for e in mx.events("dmarc.report_failed") if e.get("domain") == "httpsonly.test"]
            t.true("httpsonly.test: report_failed says nothing was sent and why",
                   len(failed) == 1 and "only mailto: is supported" in failed[0].get("reason", ""), failed)
            got = reports.wait(1, timeout=30)
            t.eq("mixed.test: the report went to its mailto: destination", [g[1] for g in got],
                 [["dmarc@reports.mixed.test"]])
            t.true("mixed.test: it is the mixed.test report", got and b"Report Domain: mixed.test" in got[0][2])
    finally:
        reports.stop()
        home.stop()
        dns.stop()
    t.done()


if __name__ == "__main__":
    main()
