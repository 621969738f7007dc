"""`mxgate probe` gaps (issue 5, SPEC §8, docs/probe.md). Addresses
127.0.19.100-199.

  dns      127.0.19.153     unbound; pg.test. DNSSEC-signed, uns.test. not
  mxgate   127.0.19.102:25  mx listener, STARTTLS (certificate for
                            mx.pg.test from a test CA); :587 submission
                            with STARTTLS and a real sasldb user
  https    127.0.19.103:443 MTA-STS policies for good.pg.test, bad.pg.test
  postfix  127.0.19.105:25  Debian's Postfix 3.7, default smtpd settings
                            (bare LF is a line ending there)
           127.0.19.106:25  the same with smtpd_forbid_bare_newline = yes
  home     127.0.19.109     mxgate's downstream (a CaptureSink)

- --smuggling-test RCPT against mxgate: every smuggling.* PASS (it never
  ends data at a bare LF) and nothing is delivered; against Postfix 3.7:
  smuggling.* FAIL, and the truncated test message really is delivered;
  with smtpd_forbid_bare_newline = yes it waits past them -> PASS
- --submission against mxgate's 587 STARTTLS listener: no FAIL, AUTH not
  advertised or accepted before TLS, AUTH offered after STARTTLS
- --domain failing verdicts: TLSA 3 1 1 of another key in the signed zone
  -> dane.tlsa FAIL; the same mismatch unsigned -> WARN (senders ignore
  it); DANE-TA(2) match waives the chain but not the name, DANE-EE(3) both; policy mx patterns not covering the MX -> mta_sts.mx_match FAIL;
  malformed TLS-RPT record -> tlsrpt.record FAIL; and the good domain
  PASSes all three
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import MXGATE_BIN, CaptureSink, Check, Mxgate, require, skip  # noqa: E402
from lib.postfix import PrivatePostfix  # noqa: E402
from test_probe import make_ca, make_leaf, spki_sha256_hex, statuses  # noqa: E402

try:
    from lib.outbound_peers import PolicyServer  # noqa: E402
except ImportError as e:  # python3-cryptography
    skip("the policy server needs python3-cryptography: %s" % e)

MXGATE = "127.0.19.102"
POLICY_ADDR = "127.0.19.103"
POSTFIX = "127.0.19.105"
POSTFIX_STRICT = "127.0.19.106"
HOME = ("127.0.19.109", 2526)
DNS_ADDR = "127.0.19.153"
PW = "Probe-gaps-pw-19"


def policy(mx):
    return "version: STSv1\r\nmode: enforce\r\n%smax_age: 86400\r\n" % "".join("mx: %s\r\n" % m for m in mx)


def probe(*args, config=None, timeout=240):
    cmd = [MXGATE_BIN, "probe", *args, "--timeout", "10", "--wait", "2"]
    if config:
        cmd += ["-c", config]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def evidence(r, check_id):
    for line in r.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] == check_id:
            return parts[2]
    return ""


def main():
    if os.geteuid() != 0:
        skip("needs root (port 25/443/587 on loopback, Postfix)")
    require("openssl")
    require("saslpasswd2")
    t = Check()
    d = tempfile.mkdtemp(prefix="probe-gaps-")
    os.chmod(d, 0o755)
    ca, ca_key = make_ca(d)
    mx_cert, mx_key = make_leaf(d, ca, ca_key, "mx.pg.test")
    other_cert, _ = make_leaf(d, ca, ca_key, "other.pg.test")
    sts_cert, sts_key = make_leaf(d, ca, ca_key, "mta-sts.good.pg.test")
    good, other, ca_spki = spki_sha256_hex(mx_cert), spki_sha256_hex(other_cert), spki_sha256_hex(ca)
    # mxgate serves leaf + CA, so a DANE-TA(2) record for the CA can match.
    mx_chain = os.path.join(d, "mx-chain.pem")
    with open(mx_chain, "w") as out:
        out.write(open(mx_cert).read() + open(ca).read())
    records = [
        "mx.pg.test. A %s" % MXGATE,
        "mx2.pg.test. A %s" % MXGATE,       # same server, TLSA of another key
        "mx3.uns.test. A %s" % MXGATE,      # same server, mismatching TLSA, unsigned
        "mx4.pg.test. A %s" % MXGATE,       # same server, DANE-TA(2) for the CA; the certificate does not name it
        "_25._tcp.mx4.pg.test. TLSA 2 1 1 %s" % ca_spki,
        "pf.pg.test. A %s" % POSTFIX,
        "pfstrict.pg.test. A %s" % POSTFIX_STRICT,
        "_25._tcp.mx.pg.test. TLSA 3 1 1 %s" % good,
        "_25._tcp.mx2.pg.test. TLSA 3 1 1 %s" % other,
        "_25._tcp.mx3.uns.test. TLSA 3 1 1 %s" % other,
        "good.pg.test. MX 10 mx.pg.test.",
        '_mta-sts.good.pg.test. TXT "v=STSv1; id=pg19good"',
        "mta-sts.good.pg.test. A %s" % POLICY_ADDR,
        '_smtp._tls.good.pg.test. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.pg.test"',
        "bad.pg.test. MX 10 mx2.pg.test.",
        '_mta-sts.bad.pg.test. TXT "v=STSv1; id=pg19bad"',
        "mta-sts.bad.pg.test. A %s" % POLICY_ADDR,
        '_smtp._tls.bad.pg.test. TXT "v=TLSRPTv1; rua=ftp://reports.bad.pg.test/tlsrpt"',
        "uns.test. MX 10 mx3.uns.test.",
    ]
    try:
        dns = DnsServer(DNS_ADDR, None, records=records, signed_zones=["pg.test."], zones=["uns.test."]).start()
    except DnsServerUnavailable as e:
        skip(str(e))
    # One policy server, two names (one certificate naming both).
    routes = {"mta-sts.good.pg.test": (200, "text/plain", policy(["mx.pg.test"]), {}),
              # bad.pg.test's MX is mx2.pg.test: not covered
              "mta-sts.bad.pg.test": (200, "text/plain", policy(["mx.pg.test", "*.elsewhere.test"]), {})}
    both, both_csr, both_ext = (os.path.join(d, "mta-sts-both." + x) for x in ("pem", "csr", "ext"))
    subprocess.run(["openssl", "req", "-new", "-key", sts_key, "-out", both_csr, "-subj", "/CN=mta-sts.pg.test"],
                   check=True, capture_output=True)
    with open(both_ext, "w") as f:
        f.write("subjectAltName=DNS:mta-sts.good.pg.test,DNS:mta-sts.bad.pg.test\nextendedKeyUsage=serverAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", both_csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                    "-out", both, "-days", "2", "-extfile", both_ext], check=True, capture_output=True)
    https = PolicyServer(POLICY_ADDR, (both, sts_key), routes).start()

    probe_cfg = os.path.join(d, "probe.yaml")
    with open(probe_cfg, "w") as f:
        f.write("hostname: prober.pg.test\nspool: %s/probe-spool\ntls: { ca_file: %s }\n"
                "dns: { resolver: \"%s\", dnssec: trust-ad }\nlisteners:\n"
                "  - { name: mx, role: mx, address: \"127.0.0.1:1\", tls: none }\n"
                "domains: [{ name: pg.test, recipients: [\"@pg.test\"], downstream: { address: \"127.0.19.199:25\", tls: none } }]\n"
                % (d, ca, dns.endpoint))
    mx_yaml = """
hostname: mx.pg.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.19.102:25", tls: starttls }
  - { name: submission, role: submission, address: "127.0.19.102:587", tls: starttls }
tls: { certificate: %s, key: %s, inbound: { profile: modern } }
dns: { resolver: "%s", dnssec: trust-ad }
domains:
  - { name: pg.test, recipients: ["@pg.test"], downstream: { address: "127.0.19.109:2526", tls: none } }
auth:
  sasl: { service: smtp, mechanisms: [PLAIN, LOGIN], sasldb: {dir}/sasldb2 }
  senders: { alice: ["alice@pg.test"] }
policy: { spf: { enabled: false }, dkim: { verify: false }, dmarc: { enforce: false } }
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
""" % (mx_chain, mx_key, dns.endpoint)
    home = CaptureSink(*HOME).start()
    pf = PrivatePostfix(POSTFIX, 25, ["pg.test"], hostname="pf.pg.test")
    # Debian's 3.7.11 carries the backported smtpd_forbid_bare_newline
    # (default no); exclusions default to $mynetworks, which holds 127/8.
    pf_strict = PrivatePostfix(POSTFIX_STRICT, 25, ["pg.test"], hostname="pfstrict.pg.test",
                               extra_main="smtpd_forbid_bare_newline = yes\n"
                                          "smtpd_forbid_bare_newline_exclusions =\n")
    try:
        pf.start()
        pf_strict.start()
        with Mxgate(mx_yaml, name="probe-gaps") as mx:
            r = mx.run("user", "add", "alice", "--stdin", input=PW + "\n")
            t.eq("mxgate user add", r.returncode, 0)
            mx.start(wait_for=[(MXGATE, 25), (MXGATE, 587)])

            # 1. Smuggling against mxgate: it waits for CRLF.CRLF every time.
            r = probe("mx.pg.test", "--smuggling-test", "smuggle@pg.test", "--sender", "probe@prober.test",
                      config=probe_cfg)
            print(r.stdout)
            s = statuses(r)
            for v in ("lf", "lf_crlf", "crlf_lf"):
                t.eq("mxgate smuggling.%s" % v, s.get("smuggling." + v), "PASS")
            t.eq("mxgate smuggling: exit 0", r.returncode, 0)
            t.eq("mxgate smuggling: nothing accepted", mx.events("queue.accepted"), [])
            t.eq("mxgate smuggling: nothing delivered", len(home.received), 0)

            # 2. --submission on 587 (STARTTLS).
            r = probe("mx.pg.test:587", "--submission", config=probe_cfg)
            print(r.stdout)
            s = statuses(r)
            t.eq("587: exit 0 (no FAIL)", r.returncode, 0)
            t.true("587: no FAIL line", "FAIL" not in s.values(), r.stdout)
            for check in ("starttls.offered", "auth.advertised_plaintext", "auth.accepted_plaintext",
                          "tls.version.TLSv1", "tls.version.TLSv1.1", "tls.version.TLSv1.3", "certificate.chain",
                          "certificate.name", "starttls.injection"):
                t.eq("587: %s" % check, s.get(check), "PASS")
            t.true("587: AUTH refused before TLS with 530", "530" in evidence(r, "auth.accepted_plaintext"),
                   evidence(r, "auth.accepted_plaintext"))

            # 3. --domain: the good domain passes, the bad one fails each way.
            r = probe("mx.pg.test", "--domain", "good.pg.test", config=probe_cfg)
            print(r.stdout)
            s = statuses(r)
            for check in ("domain.mx", "mta_sts.record", "mta_sts.policy", "mta_sts.mode", "mta_sts.mx_match",
                          "dane.tlsa", "tlsrpt.record"):
                t.eq("good domain: %s" % check, s.get(check), "PASS")
            t.eq("good domain: exit 0", r.returncode, 0)

            r = probe("mx2.pg.test", "--domain", "bad.pg.test", "--name", "mx.pg.test", config=probe_cfg)
            print(r.stdout)
            s = statuses(r)
            t.eq("bad domain: exit 1", r.returncode, 1)
            t.eq("bad domain: domain.mx", s.get("domain.mx"), "PASS")
            t.eq("bad domain: TLSA of another key (signed) -> dane.tlsa FAIL", s.get("dane.tlsa"), "FAIL")
            t.true("bad domain: dane evidence says validated", "(DNSSEC-validated)" in evidence(r, "dane.tlsa"),
                   evidence(r, "dane.tlsa"))
            t.eq("bad domain: policy valid", s.get("mta_sts.policy"), "PASS")
            t.eq("bad domain: mx not covered -> mta_sts.mx_match FAIL", s.get("mta_sts.mx_match"), "FAIL")
            t.true("bad domain: mx_match evidence names mx2", "mx2.pg.test" in evidence(r, "mta_sts.mx_match"),
                   evidence(r, "mta_sts.mx_match"))
            t.eq("bad domain: malformed TLS-RPT -> FAIL", s.get("tlsrpt.record"), "FAIL")
            # The certificate names mx.pg.test, the TLSA does not match: no DANE waiver.
            t.eq("bad domain: chain still PASS (test CA)", s.get("certificate.chain"), "PASS")

            # Unsigned mismatching TLSA: senders ignore it -> WARN, not FAIL.
            r = probe("mx3.uns.test", "--domain", "uns.test", "--name", "mx.pg.test", config=probe_cfg)
            print(r.stdout)
            s = statuses(r)
            t.eq("unsigned mismatch: dane.tlsa WARN", s.get("dane.tlsa"), "WARN")
            t.true("unsigned mismatch: evidence says not validated",
                   "NOT DNSSEC-validated" in evidence(r, "dane.tlsa"), evidence(r, "dane.tlsa"))

            # DANE-TA(2) matches, but the certificate does not name mx4.pg.test:
            # under DANE-TA the name still counts (RFC 7672 §3.2.2), so
            # certificate.name stays FAIL (only DANE-EE waives it).
            r = probe("mx4.pg.test", "--domain", "good.pg.test", config=probe_cfg)
            print(r.stdout)
            s = statuses(r)
            t.eq("DANE-TA: dane.tlsa PASS", s.get("dane.tlsa"), "PASS")
            t.true("DANE-TA: evidence", "DANE-TA(2)" in evidence(r, "dane.tlsa"), evidence(r, "dane.tlsa"))
            t.eq("DANE-TA: wrong name still FAIL", s.get("certificate.name"), "FAIL")
            # ... while DANE-EE(3) on bad.pg.test's mx2 would waive it: shown
            # with mx.pg.test's own record and a wrong --name.
            r = probe("mx.pg.test", "--domain", "good.pg.test", "--name", "somebody-else.pg.test", config=probe_cfg)
            s = statuses(r)
            t.eq("DANE-EE: name waived", s.get("certificate.name"), "PASS")
            t.true("DANE-EE: says why", "authenticated by DANE" in evidence(r, "certificate.name"),
                   evidence(r, "certificate.name"))

        # 4. Postfix 3.7 with default settings: bare LF ends lines, so
        # <LF>.<LF> ends data: the probe must say FAIL.
        r = probe("pf.pg.test", "--smuggling-test", "victim@pg.test", "--sender", "probe@prober.test",
                  config=probe_cfg)
        print(r.stdout)
        s = statuses(r)
        ver = subprocess.run(["postconf", "-d", "-h", "mail_version"], capture_output=True, text=True).stdout.strip()
        for v in ("lf", "lf_crlf", "crlf_lf"):
            t.eq("postfix %s smuggling.%s" % (ver, v), s.get("smuggling." + v), "FAIL")
        t.eq("postfix smuggling: exit 1", r.returncode, 1)
        t.true("postfix smuggling: evidence quotes the 250", "250" in evidence(r, "smuggling.lf"),
               evidence(r, "smuggling.lf"))
        # ... and it did accept the truncated message: real evidence, not a guess.
        try:
            got = pf.wait_messages(1, timeout=20)
        except AssertionError as e:
            got = [str(e).encode()]
        t.true("postfix delivered the truncated probe message", any(b"mxgate probe" in m for m in got), str(got)[:800])

        # 5. The same Postfix with smtpd_forbid_bare_newline = yes: a bare LF
        # no longer ends a line, so it waits past the fake endings -> PASS.
        r = probe("pfstrict.pg.test", "--smuggling-test", "victim@pg.test", "--sender", "probe@prober.test",
                  config=probe_cfg)
        print(r.stdout)
        s = statuses(r)
        for v in ("lf", "lf_crlf", "crlf_lf"):
            t.eq("postfix forbid_bare_newline smuggling.%s" % v, s.get("smuggling." + v), "PASS")
        t.true("postfix forbid_bare_newline: it waited", "waited for CRLF.CRLF" in evidence(r, "smuggling.lf"),
               evidence(r, "smuggling.lf"))
        t.eq("postfix forbid_bare_newline: nothing delivered", pf_strict.messages(), [])
    finally:
        pf.stop()
        pf_strict.stop()
        home.stop()
        https.httpd.shutdown()
        dns.stop()
    sys.exit(t.done())


if __name__ == "__main__":
    main()
