#!/usr/bin/env python3
"""Integration test of lib/dnsserver.py, the test DNS server harness.

Starts a private unbound with records, SERVFAIL/REFUSED names and a signed
zone, and checks every answer class over real UDP (and with dig, when
installed). Exit 0 = pass, 77 = skip (unbound missing), anything else = fail.
Run by ctest from tests/integration/ (env MXGATE_BIN, MXGATE_SOURCE_DIR).
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402

NOERROR, SERVFAIL, NXDOMAIN, REFUSED = 0, 2, 3, 5
failures = []


def check(what, got, want):
    if got != want:
        failures.append("%s: got %r, want %r" % (what, got, want))
    print("%-40s %-20r %s" % (what, got, "ok" if got == want else "FAIL (want %r)" % (want,)))


def dig(dns, name, qtype):
    out = subprocess.run(["dig", "+short", "+time=2", "+tries=1", "-p", str(dns.port),
                          "@" + dns.address, name, qtype],
                         capture_output=True, text=True, timeout=10).stdout
    return sorted(out.split("\n")[:-1])


def main():
    records = [
        "example.test. MX 10 mx.example.test.",
        "example.test. MX 20 mx2.example.test.",
        "mx.example.test. A 127.0.0.2",
        "mx.example.test. AAAA 2001:db8::2",
        'example.test. TXT "v=spf1 " "-all"',
        "nullmx.test. MX 0 .",
        "secure.test. MX 10 mx.secure.test.",
        "mx.secure.test. A 127.0.0.3",
    ]
    try:
        dns = DnsServer("127.0.0.53", None, records=records, servfail=["broken.test."],
                        refused=["refused.test."], signed_zones=["secure.test."])
        dns.start()
    except DnsServerUnavailable as e:
        print("SKIP:", e)
        return 77
    try:
        check("MX answer", dns.query("example.test.", "MX")[::2], (NOERROR, 2))
        check("A answer", dns.query("mx.example.test.", "A")[::2], (NOERROR, 1))
        check("AAAA answer", dns.query("mx.example.test.", "AAAA")[::2], (NOERROR, 1))
        check("NODATA (name exists, no AAAA)", dns.query("example.test.", "AAAA")[::2], (NOERROR, 0))
        check("NXDOMAIN in a served TLD", dns.query("nope.example.test.", "A")[::2], (NXDOMAIN, 0))
        check("SERVFAIL name", dns.query("broken.test.", "MX")[0], SERVFAIL)
        check("SERVFAIL below the name", dns.query("a.broken.test.", "A")[0], SERVFAIL)
        check("REFUSED name", dns.query("x.refused.test.", "TXT")[0], REFUSED)
        check("unsigned answer has no AD", dns.query("example.test.", "MX", dnssec=True)[1], False)
        check("signed zone answer has AD (MX+RRSIG)", dns.query("secure.test.", "MX", dnssec=True), (NOERROR, True, 2))
        check("signed zone NXDOMAIN has AD", dns.query("nx.secure.test.", "A", dnssec=True), (NXDOMAIN, True, 0))
        if shutil.which("dig"):
            check("dig MX", dig(dns, "example.test", "MX"), ["10 mx.example.test.", "20 mx2.example.test."])
            check("dig TXT (two strings)", dig(dns, "example.test", "TXT"), ['"v=spf1 " "-all"'])
            check("dig null MX", dig(dns, "nullmx.test", "MX"), ["0 ."])
            check("dig AAAA", dig(dns, "mx.example.test", "AAAA"), ["2001:db8::2"])
        dns.add_record("late.example.test. A 127.0.0.9")
        check("record added at run time", dns.query("late.example.test.", "A")[::2], (NOERROR, 1))
        dns.remove_name("late.example.test.")
        check("record removed at run time", dns.query("late.example.test.", "A")[0], NXDOMAIN)
        # A second server on another loopback address must not collide.
        with DnsServer("127.0.0.54", dns.port, records=["other.test. A 127.0.0.4"]) as dns2:
            check("second server, same port", dns2.query("other.test.", "A")[::2], (NOERROR, 1))
            check("first server unaffected", dns.query("other.test.", "A")[0], NXDOMAIN)
    finally:
        dns.stop()
    check("server stopped", dns.proc, None)
    if failures:
        print("\n".join(["FAILED:"] + failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
