#!/usr/bin/env python3
"""SPF, DKIM verification, DNSBL and greylisting on the mx listener (SPEC §4, §6).

Real peers only: a private unbound (lib/dnsserver.py) on 127.0.8.53 serves
every zone — the zones exist nowhere else, so each passing lookup shows that
dns.resolver governs libspf2's and libopendkim's DNS too. Messages are
signed for real with python3-dkim and a fresh RSA key. Clients connect from
their own loopback source addresses (127.0.8.x).

  * SPF: pass, fail, softfail, temperror (SERVFAIL zone), permerror for
    11 DNS mechanisms, a CVE-2023-42118-style record → permerror and
    mxgate still serving; the verdicts are read from policy.spf events.
  * DKIM: pass, fail (body changed after signing), l= shorter than the body
    → "policy" (counts as no signature); policy.dkim events.
  * DNSBL: a listed client gets 554 5.7.1 naming the list at connect; a list
    whose DNS fails is not a listing (policy.dnsbl result=error).
  * Greylisting: 451 4.7.1 for a new triplet, accepted after the delay, and
    still accepted after a restart (state in the spool).

Exit 0 pass, 77 skip (a peer is missing), else fail.
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import CaptureSink, Check, Mxgate, RawSmtp, raw_transaction, skip  # noqa: E402
from lib.dnsserver import DnsServer, DnsServerUnavailable, free_port  # noqa: E402
from lib.dkimkeys import import_dkim, make_key, txt  # noqa: E402

dkim = import_dkim()

MX = ("127.0.8.1", 2525)
GREY = ("127.0.8.2", 2525)
HOME = ("127.0.8.4", 2526)
DNS_ADDR = "127.0.8.53"
LISTED_CLIENT = "127.0.8.10"
CLIENT = "127.0.8.11"        # the address spf-pass.test authorises
OTHER_CLIENT = "127.0.8.12"  # authorised by nobody
GREY_CLIENT = "127.0.8.30"

CVE_RECORD = "v=spf1 exists:" + "a%{l}" * 60 + ".example.org -all"


def message(sender, subject, body="Hello,\r\nthis is a test.\r\n"):
    return ("From: <%s>\r\nTo: <alice@example.test>\r\nSubject: %s\r\n"
            "Date: Sun, 22 Nov 2026 12:00:00 +0000\r\nMessage-ID: <%s@test>\r\n\r\n%s"
            % (sender, subject, subject.replace(" ", "-"), body)).encode()


def send(source, sender, data, server=MX):
    """One transaction; returns the list of (code, text) of MAIL, RCPT and end of data
    (up to the first refusal; DATA's 354 left out)."""
    out = raw_transaction(server, sender, "alice@example.test", data, helo="client.spfdkim.test", source=source)
    return [r for r in out if r[0] != 354]


def spf_result(mx, domain, timeout=20.0):
    evs = mx.wait_event("policy.spf", lambda e: e.get("domain") == domain, timeout=timeout)
    return evs[-1].get("result")


def dkim_results(mx, domain, count=1, timeout=20.0):
    evs = mx.wait_event("policy.dkim", lambda e: e.get("domain") == domain, timeout=timeout, count=count)
    return [e.get("result") for e in evs]


def main():
    check = Check()
    workdir = tempfile.mkdtemp(prefix="spfdkim-")
    privkey, pubkey = make_key(workdir)
    records = [
        txt("spf-pass.test", "v=spf1 ip4:%s -all" % CLIENT),
        txt("spf-fail.test", "v=spf1 ip4:192.0.2.1 -all"),
        txt("spf-soft.test", "v=spf1 ip4:192.0.2.1 ~all"),
        txt("spf-limit.test", "v=spf1 " + " ".join("include:l%d.spf-lim.test" % i for i in range(11)) + " -all"),
        txt("spf-hostile.test", CVE_RECORD),
        txt("sel._domainkey.dkim.test", "v=DKIM1; k=rsa; p=" + pubkey),
        txt("dkim.test", "v=spf1 ?all"),
        # DNSBL: 127.0.8.10 is listed.
        "10.8.0.127.bl.spfdkim.test. A 127.0.0.2",
        "bl.spfdkim.test. A 127.0.0.1",
    ] + [txt("l%d.spf-lim.test" % i, "v=spf1 ip4:192.0.2.1 -all") for i in range(11)]
    try:
        dns = DnsServer(DNS_ADDR, free_port(DNS_ADDR), records=records,
                        servfail=["spf-temp.test.", "broken-bl.test."],
                        zones=["test.", "spfdkim.test."])
        dns.start()
    except DnsServerUnavailable as e:
        skip(str(e))

    config = """
hostname: mx.spfdkim.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "%s:%d", tls: none }
dns: { resolver: "%s" }
domains:
  - name: example.test
    recipients: ["@example.test"]
    downstream: { address: "%s:%d", tls: none }
policy:
  dnsbl: [broken-bl.test, bl.spfdkim.test]
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
""" % (MX[0], MX[1], dns.endpoint, HOME[0], HOME[1])
    grey_config = """
hostname: grey.spfdkim.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "%s:%d", tls: none }
dns: { resolver: "%s" }
domains:
  - name: example.test
    recipients: ["@example.test"]
    downstream: { address: "%s:%d", tls: none }
policy:
  spf: { enabled: false }
  dkim: { verify: false }
  dmarc: { enforce: false }
  greylisting: { enabled: true, delay: 3s }
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
""" % (GREY[0], GREY[1], dns.endpoint, HOME[0], HOME[1])

    home = CaptureSink(*HOME).start()
    try:
        with Mxgate(config, name="spfdkim") as mx:
            mx.start(wait_for=[MX])

            # --- DNSBL at connect
            c = RawSmtp(*MX, source=LISTED_CLIENT)
            code, text = c.reply()
            check.eq("DNSBL: listed client's greeting code", code, 554)
            check.true("DNSBL: 554 is 5.7.1 and names the list", "5.7.1" in text and "bl.spfdkim.test" in text, text)
            check.true("DNSBL: connection closed after 554", c.closed())
            c.close()
            errs = mx.wait_event("policy.dnsbl", lambda e: e.get("policy") == "broken-bl.test")
            check.eq("DNSBL: a failing list is logged as an error", errs[0].get("result"), "error")
            c = RawSmtp(*MX, source=CLIENT)
            code, _ = c.reply()
            check.eq("DNSBL: unlisted client (the failing list is no listing) gets 220", code, 220)
            c.cmd("QUIT")
            c.close()

            # --- SPF (policy.spf events; the end-of-data checks act on them)
            r = send(CLIENT, "bob@spf-pass.test", message("bob@spf-pass.test", "spf pass"))
            check.eq("SPF pass: accepted", r[-1][0], 250)
            check.eq("SPF pass: verdict", spf_result(mx, "spf-pass.test"), "pass")
            r = send(CLIENT, "bob@spf-fail.test", message("bob@spf-fail.test", "spf fail"))
            check.eq("SPF fail: verdict", spf_result(mx, "spf-fail.test"), "fail")
            check.eq("SPF fail (no DKIM): 550", r[-1][0], 550)
            check.true("SPF fail: 5.7.23", "5.7.23" in r[-1][1], r[-1][1])
            send(CLIENT, "bob@spf-soft.test", message("bob@spf-soft.test", "spf softfail"))
            check.eq("SPF softfail: verdict", spf_result(mx, "spf-soft.test"), "softfail")
            r = send(CLIENT, "bob@spf-temp.test", message("bob@spf-temp.test", "spf temperror"))
            check.eq("SPF temperror (SERVFAIL): verdict", spf_result(mx, "spf-temp.test"), "temperror")
            check.eq("SPF temperror: 4xx, never a silent pass", r[-1][0] // 100, 4)
            send(CLIENT, "bob@spf-limit.test", message("bob@spf-limit.test", "spf limit"))
            check.eq("SPF 11 DNS mechanisms: permerror", spf_result(mx, "spf-limit.test"), "permerror")
            send(CLIENT, "bob@spf-hostile.test", message("bob@spf-hostile.test", "spf hostile"))
            check.eq("SPF CVE-2023-42118-style record: permerror", spf_result(mx, "spf-hostile.test"), "permerror")
            check.true("mxgate alive after the hostile record", mx.proc.poll() is None)
            c = RawSmtp(*MX, source=CLIENT)
            check.eq("mxgate still greets after the hostile record", c.reply()[0], 220)
            c.close()

            # --- DKIM, signed for real
            raw = message("carol@dkim.test", "dkim pass")
            sig = dkim.sign(raw, b"sel", b"dkim.test", privkey, include_headers=[b"from", b"to", b"subject"])
            r = send(OTHER_CLIENT, "carol@dkim.test", sig + raw)
            check.eq("DKIM pass: accepted", r[-1][0], 250)
            check.eq("DKIM pass: verdict", dkim_results(mx, "dkim.test"), ["pass"])
            raw = message("carol@dkim.test", "dkim tampered")
            sig = dkim.sign(raw, b"sel", b"dkim.test", privkey, include_headers=[b"from", b"to", b"subject"])
            send(OTHER_CLIENT, "carol@dkim.test", sig + raw.replace(b"this is a test", b"this is a fake"))
            check.eq("DKIM body changed: fail", dkim_results(mx, "dkim.test", count=2)[-1], "fail")
            raw = message("carol@dkim.test", "dkim length")
            sig = dkim.sign(raw, b"sel", b"dkim.test", privkey, include_headers=[b"from", b"to", b"subject"],
                            length=True)
            send(OTHER_CLIENT, "carol@dkim.test", sig + raw + b"Appended by someone else.\r\n")
            check.eq("DKIM l= shorter than the body: policy (no signature)",
                     dkim_results(mx, "dkim.test", count=3)[-1], "policy")

        # --- Greylisting
        grey = Mxgate(grey_config, name="grey")
        with grey:
            grey.start(wait_for=[GREY])
            data = message("dave@grey.test", "grey")
            r = send(GREY_CLIENT, "dave@grey.test", data, server=GREY)
            check.eq("greylisting: first attempt 451", r[-1][0], 451)
            check.true("greylisting: 4.7.1", "4.7.1" in r[-1][1], r[-1][1])
            r = send(GREY_CLIENT, "dave@grey.test", data, server=GREY)
            check.eq("greylisting: retry before the delay still 451", r[-1][0], 451)
            time.sleep(3.5)
            r = send(GREY_CLIENT, "dave@grey.test", data, server=GREY)
            check.eq("greylisting: retry after the delay accepted (RCPT)", r[1][0], 250)
            check.eq("greylisting: retry after the delay accepted (data)", r[-1][0], 250)
            r = send(GREY_CLIENT, "erin@grey.test", data, server=GREY)
            check.eq("greylisting: another sender is a new triplet", r[-1][0], 451)
            grey.stop()
            grey.start(wait_for=[GREY])
            r = send("127.0.8.31", "dave@grey.test", data, server=GREY)
            check.eq("greylisting: same /24 after a restart still accepted", r[-1][0], 250)
    finally:
        home.stop()
        dns.stop()
    check.done()


if __name__ == "__main__":
    main()
