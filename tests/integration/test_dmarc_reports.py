#!/usr/bin/env python3
"""DMARC aggregate reports (RFC 7489 §7.2; docs/dmarc-reports.md).

Real peers only: a private unbound (lib/dnsserver.py) on 127.0.16.53 holds
the DMARC, SPF and DKIM records and the MX of every report destination; a
capturing SMTP server on 127.0.16.25:25 is that MX; messages are signed
for real with python3-dkim and sent from several 127.0.16.x addresses.

  * sender.test (p=reject, rua=mailto:dmarc@reports.test, an external
    destination authorised by sender.test._report._dmarc.reports.test):
    aligned DKIM+SPF passes from 127.0.16.11 (x2), unsigned forgeries from
    127.0.16.12 (x2, refused), a tampered signature from 127.0.16.13
    (refused) — recorded across a daemon restart;
  * internal.test (p=quarantine, rua on its own organisational domain: no
    authorisation needed): one quarantined message;
  * noauth.test (rua at unauth.example, no _report._dmarc record): no report;
  * tiny.test (rua with a !512 size limit): the report is larger: none sent;
  * norua.test (no rua): nothing recorded.

`mxgate report dmarc --send-now` makes the daemon send; the reports are
received by the MX, the gzip attachment is unpacked and the XML parsed
with xml.etree: metadata, policy, counts, source IPs, dispositions
(refused mail counted as reject), DKIM and SPF results. After a restart
nothing is sent again.
Addresses: 127.0.16.x. Exit 0 pass, 77 skip, else fail.
"""
import email
import email.policy
import gzip
import os
import re
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import CaptureSink, Check, Mxgate, raw_transaction, skip  # noqa: E402
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.dkimkeys import import_dkim, make_key, txt  # noqa: E402

dkim = import_dkim()

MX = ("127.0.16.1", 2525)
HOME = ("127.0.16.2", 2526)
REPORT_MX = ("127.0.16.25", 25)
DNS_ADDR = ("127.0.16.53", 5353)
GOOD = "127.0.16.11"      # authorised by sender.test's SPF
FORGER = "127.0.16.12"
TAMPERER = "127.0.16.13"
OTHER = "127.0.16.14"
HOSTNAME = "mx.dmarcrpt.test"

CONFIG = """
hostname: %s
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "%s:%d", tls: none }
dns: { resolver: "%s:%d" }
domains:
  - name: dmarcrpt.test
    recipients: ["@dmarcrpt.test"]
    downstream: { address: "%s:%d", tls: none }
policy:
  dmarc:
    reports: { enabled: true, organization: Dmarcrpt Test Org, contact: postmaster@dmarcrpt.test,
               from: dmarc-reports@dmarcrpt.test }
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
""" % (HOSTNAME, MX[0], MX[1], DNS_ADDR[0], DNS_ADDR[1], HOME[0], HOME[1])


def message(sender, subject):
    return ("From: Bob <%s>\r\nTo: <alice@dmarcrpt.test>\r\nSubject: %s\r\n"
            "Date: Sun, 22 Nov 2026 12:00:00 +0000\r\nMessage-ID: <%s@test>\r\n\r\nHello,\r\nreport me.\r\n"
            % (sender, subject, subject.replace(" ", "-"))).encode()


def send(source, sender, data):
    """One transaction; returns the end-of-data (code, text)."""
    return raw_transaction(MX, sender, "alice@dmarcrpt.test", data, helo="client.dmarcrpt.test", source=source)[-1]


def report_of(raw):
    """(message, attachment part, filename, XML root) of one captured report."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    att = None
    for part in msg.walk():
        if part.get_content_type() == "application/gzip":
            att = part
    if att is None:
        return msg, None, None, None
    data = gzip.decompress(att.get_payload(decode=True))
    return msg, att, att.get_filename(), ET.fromstring(data)


def records(root):
    out = []
    for rec in root.findall("record"):
        out.append({
            "ip": rec.findtext("row/source_ip"),
            "count": int(rec.findtext("row/count")),
            "disposition": rec.findtext("row/policy_evaluated/disposition"),
            "dkim": rec.findtext("row/policy_evaluated/dkim"),
            "spf": rec.findtext("row/policy_evaluated/spf"),
            "header_from": rec.findtext("identifiers/header_from"),
            "envelope_from": rec.findtext("identifiers/envelope_from"),
            "auth_dkim": [(d.findtext("domain"), d.findtext("selector"), d.findtext("result"))
                          for d in rec.findall("auth_results/dkim")],
            "auth_spf": [(s.findtext("domain"), s.findtext("scope"), s.findtext("result"))
                         for s in rec.findall("auth_results/spf")],
        })
    return sorted(out, key=lambda r: r["ip"])


def main():
    check = Check()
    workdir = tempfile.mkdtemp(prefix="dmarcrpt-")
    privkey, pubkey = make_key(workdir)
    records_dns = [
        txt("_dmarc.sender.test", "v=DMARC1; p=reject; rua=mailto:dmarc@reports.test"),
        txt("sender.test", "v=spf1 ip4:%s -all" % GOOD),
        txt("sel._domainkey.sender.test", "v=DKIM1; k=rsa; p=" + pubkey),
        # external destination authorised (RFC 7489 §7.1)
        txt("sender.test._report._dmarc.reports.test", "v=DMARC1"),
        "reports.test. MX 10 mx.reports.test.",
        "mx.reports.test. A %s" % REPORT_MX[0],
        # rua on the policy domain's own organisational domain
        txt("_dmarc.internal.test", "v=DMARC1; p=quarantine; rua=mailto:dmarc@reports.internal.test"),
        txt("internal.test", "v=spf1 ?all"),
        "reports.internal.test. MX 10 mx.reports.test.",
        # external destination without authorisation
        txt("_dmarc.noauth.test", "v=DMARC1; p=reject; rua=mailto:dmarc@unauth.example"),
        txt("noauth.test", "v=spf1 -all"),
        "unauth.example. MX 10 mx.reports.test.",
        txt("other.unauth.example", "unrelated"),
        # a size limit no report fits in
        txt("_dmarc.tiny.test", "v=DMARC1; p=none; rua=mailto:dmarc@reports.tiny.test!512"),
        txt("tiny.test", "v=spf1 ?all"),
        "reports.tiny.test. MX 10 mx.reports.test.",
        # no rua at all
        txt("_dmarc.norua.test", "v=DMARC1; p=none"),
        txt("norua.test", "v=spf1 ?all"),
    ]
    try:
        dns = DnsServer(DNS_ADDR[0], DNS_ADDR[1], records=records_dns, zones=["test.", "example."])
        dns.start()
    except DnsServerUnavailable as e:
        skip(str(e))

    home = CaptureSink(*HOME).start()
    reports = CaptureSink(*REPORT_MX).start()
    first_send = int(time.time())
    try:
        mx = Mxgate(CONFIG, name="dmarcrpt")
        with mx:
            mx.start(wait_for=[MX])

            def signed(subject):
                raw = message("bob@sender.test", subject)
                return dkim.sign(raw, b"sel", b"sender.test", privkey,
                                 include_headers=[b"from", b"to", b"subject"]) + raw

            code, _ = send(GOOD, "bob@sender.test", signed("good one"))
            check.eq("aligned DKIM+SPF pass from sender.test: accepted", code, 250)
            code, text = send(FORGER, "bob@sender.test", message("bob@sender.test", "forged one"))
            check.eq("unsigned forgery of sender.test (p=reject): 550", code, 550)
            check.true("the refusal is DMARC's 5.7.1", "5.7.1" in text, text)
            tampered = signed("tampered").replace(b"report me.", b"report me!")
            code, _ = send(TAMPERER, "bob@sender.test", tampered)
            check.eq("tampered signature of sender.test: 550", code, 550)

            # The recorded rows survive a restart.
            mx.stop()
            mx.start(wait_for=[MX])
            code, _ = send(GOOD, "bob@sender.test", signed("good two"))
            check.eq("second aligned pass after a restart: accepted", code, 250)
            code, _ = send(FORGER, "bob@sender.test", message("bob@sender.test", "forged two"))
            check.eq("second forgery: 550", code, 550)
            code, _ = send(OTHER, "carol@internal.test", message("carol@internal.test", "quarantined"))
            check.eq("internal.test p=quarantine (header mode): accepted", code, 250)
            code, _ = send(OTHER, "dave@noauth.test", message("dave@noauth.test", "noauth forged"))
            check.eq("noauth.test forgery: 550", code, 550)
            code, _ = send(OTHER, "erin@tiny.test", message("erin@tiny.test", "tiny"))
            check.eq("tiny.test p=none: accepted", code, 250)
            code, _ = send(OTHER, "fay@norua.test", message("fay@norua.test", "norua"))
            check.eq("norua.test p=none: accepted", code, 250)
            mx.wait_event("policy.dmarc", lambda e: e.get("domain") == "norua.test")

            pending = mx.run("report", "dmarc")
            check.eq("report dmarc (pending) exits 0", pending.returncode, 0)
            check.true("pending: sender.test with 5 messages",
                       "sender.test: 5 messages" in pending.stdout, pending.stdout + pending.stderr)
            check.true("pending: nothing for norua.test (no rua)", "norua.test" not in pending.stdout,
                       pending.stdout)

            # --- send now
            r = mx.run("report", "dmarc", "--send-now")
            check.eq("--send-now exits 0", r.returncode, 0)
            check.eq("--send-now summary", r.stdout.strip(), "ok sent 2 failed 2 deferred 0")
            sent_at = int(time.time())
            got = reports.wait(2, timeout=60)
            by_rcpt = {rcpts[0]: (mail_from, rcpts, data) for mail_from, rcpts, data in got}
            check.eq("report destinations", sorted(by_rcpt), ["dmarc@reports.internal.test", "dmarc@reports.test"])

            # sender.test's report
            mail_from, rcpts, raw = by_rcpt.get("dmarc@reports.test", (None, [], b""))
            check.eq("envelope sender is policy.dmarc.reports.from", mail_from, "dmarc-reports@dmarcrpt.test")
            check.eq("one recipient", rcpts, ["dmarc@reports.test"])
            msg, att, filename, root = report_of(raw)
            subject = str(msg["Subject"])
            m = re.fullmatch(r"Report Domain: sender\.test Submitter: Dmarcrpt Test Org Report-ID: <([^>]+)>",
                             subject)
            check.true("Subject per RFC 7489 §7.2.1.1", m is not None, subject)
            check.true("From: is policy.dmarc.reports.from", "dmarc-reports@dmarcrpt.test" in str(msg["From"]),
                       str(msg["From"]))
            check.eq("multipart/mixed", msg.get_content_type(), "multipart/mixed")
            check.true("an application/gzip attachment", att is not None)
            if root is not None:
                meta = root.find("report_metadata")
                begin = int(meta.findtext("date_range/begin"))
                end = int(meta.findtext("date_range/end"))
                check.eq("file name", filename, "%s!sender.test!%d!%d.xml.gz" % (HOSTNAME, begin, end))
                check.true("date range covers the messages", begin <= first_send and first_send <= end <= sent_at,
                           (begin, end, first_send, sent_at))
                check.eq("begin is the UTC day's start", begin % 86400, 0)
                check.eq("org_name", meta.findtext("org_name"), "Dmarcrpt Test Org")
                check.eq("email", meta.findtext("email"), "postmaster@dmarcrpt.test")
                check.eq("report_id is the Subject's", meta.findtext("report_id"), m.group(1) if m else None)
                pol = root.find("policy_published")
                check.eq("policy_published", [(c.tag, c.text) for c in pol],
                         [("domain", "sender.test"), ("adkim", "r"), ("aspf", "r"), ("p", "reject"),
                          ("sp", "reject"), ("pct", "100")])
                recs = records(root)
                check.eq("three distinct rows", [(r["ip"], r["count"]) for r in recs],
                         [(GOOD, 2), (FORGER, 2), (TAMPERER, 1)])
                check.eq("total count", sum(r["count"] for r in recs), 5)
                good, forged, tamp = (recs + [{}] * 3)[:3]
                check.eq("pass row: evaluated", (good.get("disposition"), good.get("dkim"), good.get("spf")),
                         ("none", "pass", "pass"))
                check.eq("pass row: DKIM result", good.get("auth_dkim"), [("sender.test", "sel", "pass")])
                check.eq("pass row: SPF result", good.get("auth_spf"), [("sender.test", "mfrom", "pass")])
                check.eq("pass row: identifiers", (good.get("header_from"), good.get("envelope_from")),
                         ("sender.test", "sender.test"))
                check.eq("forged rows: rejected, nothing aligned",
                         (forged.get("disposition"), forged.get("dkim"), forged.get("spf")),
                         ("reject", "fail", "fail"))
                check.eq("forged rows: no signature", forged.get("auth_dkim"), [])
                check.eq("forged rows: SPF fail", forged.get("auth_spf"), [("sender.test", "mfrom", "fail")])
                check.eq("tampered row: rejected", tamp.get("disposition"), "reject")
                check.eq("tampered row: DKIM fail", tamp.get("auth_dkim"), [("sender.test", "sel", "fail")])

            # internal.test's report: quarantine applied
            _, _, raw = by_rcpt.get("dmarc@reports.internal.test", (None, [], b""))
            msg, att, filename, root = report_of(raw)
            check.true("internal.test: Subject", str(msg["Subject"]).startswith("Report Domain: internal.test "),
                       str(msg["Subject"]))
            if root is not None:
                recs = records(root)
                check.eq("internal.test: one quarantined row",
                         [(r["ip"], r["count"], r["disposition"]) for r in recs], [(OTHER, 1, "quarantine")])
                check.eq("internal.test: p", root.findtext("policy_published/p"), "quarantine")

            # Refusals: the unauthorised destination and the size limit.
            fails = mx.events("dmarc.report_failed")
            check.true("noauth.test: external destination not authorised",
                       any(e.get("domain") == "noauth.test" and "not authorised" in e.get("reason", "")
                           and e.get("recipient") == "dmarc@unauth.example" for e in fails), fails)
            check.true("tiny.test: over the !512 limit",
                       any(e.get("domain") == "tiny.test" and "exceeds" in e.get("reason", "") for e in fails), fails)
            sent = mx.events("dmarc.report_sent")
            check.eq("dmarc.report_sent events", sorted(e.get("domain") for e in sent), ["internal.test", "sender.test"])
            s = [e for e in sent if e.get("domain") == "sender.test"]
            if s:
                check.eq("report_sent count", s[0].get("count"), 5)
                check.eq("report_sent recipients", s[0].get("recipients"), ["dmarc@reports.test"])
            time.sleep(1)
            check.eq("nothing at the unauthorised or too-small destinations",
                     sorted(r[1][0] for r in reports.received), ["dmarc@reports.internal.test", "dmarc@reports.test"])
            after = mx.run("report", "dmarc")
            check.eq("nothing pending after sending", after.stdout.strip(), "no DMARC evaluations recorded for reports")

            # --- a restart never sends twice
            mx.stop()
            mx.start(wait_for=[MX])
            time.sleep(2)  # the start-up pass
            r = mx.run("report", "dmarc", "--send-now")
            check.eq("after a restart: nothing to send", r.stdout.strip(), "ok sent 0 failed 0 deferred 0")
            time.sleep(2)
            check.eq("after a restart: no report sent again", len(reports.received), 2)
            check.eq("after a restart: two dmarc.report_sent in total", len(mx.events("dmarc.report_sent")), 2)
        r = mx.run("report", "dmarc", "--send-now")
        check.eq("--send-now without a daemon: exit 1", r.returncode, 1)
        check.true("--send-now without a daemon says so", "running daemon" in r.stderr, r.stderr)
    finally:
        reports.stop()
        home.stop()
        dns.stop()
    check.done()


if __name__ == "__main__":
    main()
