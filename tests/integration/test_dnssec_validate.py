"""dns.dnssec: validate end to end (issue 3 gap; docs/dns.md, docs/dane.md,
docs/requiretls.md).

mxgate's libunbound validates by itself against a trust anchor given with
dns.trust_anchor, while the DNS server it forwards to (a real unbound,
lib/dnsserver.py with validate=False) serves the signed zone val.test.
without validating: it never sets AD. So every "secure" verdict below can
only come from libunbound's own validation.

Cases (all submitted over STARTTLS + AUTH with a real sasldb user):
  the server sets no AD bit                          -> checked with dig +dnssec
  good.val.test:  signed MX and TLSA 3 1 1 matching   -> delivered under DANE (tls.policy source dane)
  bogus.val.test: TLSA RDATA altered after signing    -> bogus (RFC 7672 §2.1.1: unusable, defer), nothing sent
  rt.val.test:    REQUIRETLS, signed MX, MX offers REQUIRETLS, verified cert
                                                     -> delivered with REQUIRETLS (the MX validated by libunbound)
  the same REQUIRETLS message with dns.dnssec: trust-ad against the same
  non-validating server                             -> nothing is authenticated: bounced 5.7.10
Addresses: 127.0.15.100-199 (the 127.0.15.x range of test_requiretls.py).
"""

import hashlib
import os
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import CaptureSink, Check, Mxgate, require, skip  # noqa: E402

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from lib.outbound_peers import MxHost, TestCA  # noqa: E402
except ImportError as e:  # pragma: no cover
    skip(f"python3-cryptography missing: {e}")

SUB = ("127.0.15.101", 2587)
HOME = ("127.0.15.199", 2526)
DNS_ADDR = "127.0.15.153"
REALM = "mx.owner.test"
PASSWORD = "Alice-val-4035"
MX = {"good": "127.0.15.102", "bogus": "127.0.15.103", "rt": "127.0.15.104"}

CONFIG = """
hostname: mx.owner.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: submission, role: submission, address: "127.0.15.101:2587", tls: starttls }
tls:
  self_signed: true
  certificate: {dir}/cert.pem
  key: {dir}/key.pem
  ca_file: "%(ca)s"
  outbound: { default: opportunistic, use_mta_sts: false, use_dane: true, fallback: plaintext-logged }
dns: %(dns)s
domains:
  - name: owner.test
    recipients: ["@owner.test"]
    downstream: { address: "127.0.15.199:2526", tls: none }
auth:
  sasl: { service: smtp, mechanisms: [PLAIN], sasldb: {dir}/sasldb2 }
  senders:
    alice: ["alice@owner.test"]
policy:
  spf: { enabled: false }
  dkim: { verify: false }
  dmarc: { enforce: false }
queue: { retry: [1h], max_lifetime: 1d, delay_warning: 1d }
"""


def spki_sha256(cert_path):
    with open(cert_path, "rb") as f:
        key = x509.load_pem_x509_certificate(f.read()).public_key()
    return hashlib.sha256(key.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def submit(to, subject, requiretls=False):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    msg = (f"From: alice@owner.test\r\nTo: {to}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{subject.replace(' ', '-')}@owner.test>\r\n\r\nbody\r\n").encode()
    with smtplib.SMTP(*SUB, timeout=30) as s:
        s.ehlo("client.owner.test")
        s.starttls(context=ctx)
        s.ehlo("client.owner.test")
        s.login("alice", PASSWORD)
        code, _ = s.mail("alice@owner.test", options=["REQUIRETLS"] if requiretls else [])
        if code != 250:
            return code
        s.rcpt(to)
        code, _ = s.data(msg)
        return code


def main():
    if os.geteuid() != 0:
        skip("needs root: MX hosts listen on port 25")
    require("saslpasswd2")
    for tool in ("dig", "ldns-signzone"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            skip(f"{tool} is not installed (contrib/install-deps.sh)")
    t = Check()
    work = tempfile.mkdtemp(prefix="mxgate-validate-")
    ca = TestCA(work, "mxgate validate test CA")
    certs = {n: ca.issue(n, [f"mx.{n}.val.test"]) for n in MX}
    records = []
    for n, addr in MX.items():
        records += [f"{n}.val.test. MX 10 mx.{n}.val.test.", f"mx.{n}.val.test. A {addr}"]
    records.append(f"_25._tcp.mx.good.val.test. TLSA 3 1 1 {spki_sha256(certs['good'][0])}")
    records.append(f"_25._tcp.mx.bogus.val.test. TLSA 3 1 1 {spki_sha256(certs['bogus'][0])}")
    try:
        dns = DnsServer(DNS_ADDR, None, records=records, signed_zones=["val.test."], zones=[],
                        validate=False, bogus=["_25._tcp.mx.bogus.val.test."]).start()
    except DnsServerUnavailable as e:
        skip(str(e))
    hosts = {}
    home = CaptureSink(*HOME).start()
    mx = None
    try:
        for n, addr in MX.items():
            hosts[n] = MxHost(addr, "tls", cert=certs[n], name=f"mx.{n}.val.test",
                              after_tls=["REQUIRETLS"] if n == "rt" else []).start()
        rc, ad, cnt = dns.query("good.val.test.", "MX", dnssec=True)
        t.true("the DNS server answers without AD (it does not validate)", rc == 0 and not ad and cnt >= 1,
               f"rcode={rc} ad={ad} n={cnt}")
        rc, ad, cnt = dns.query("_25._tcp.mx.bogus.val.test.", "TLSA", dnssec=True)
        t.true("the forged TLSA is served as is", rc == 0 and not ad and cnt >= 1, f"rcode={rc} ad={ad} n={cnt}")
        anchors = dns.trust_anchors()
        t.eq("one trust anchor (DS of val.test.)", len(anchors), 1)

        validate = '{ resolver: "%s", dnssec: validate, trust_anchor: "%s" }' % (dns.endpoint, anchors[0])
        mx = Mxgate(CONFIG % {"ca": ca.ca_file, "dns": validate}, name="validate")
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", os.path.join(mx.dir, "sasldb2"), "-u", REALM, "alice"],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        r = mx.run("check-config")
        t.eq("check-config accepts dns.trust_anchor with validate", r.returncode, 0)
        mx.start(wait_for=[SUB])

        t.eq("good: accepted", submit("user@good.val.test", "val good"), 250)
        t.eq("bogus: accepted", submit("user@bogus.val.test", "val bogus"), 250)
        t.eq("rt: REQUIRETLS accepted", submit("user@rt.val.test", "val rt", True), 250)
        deadline = time.time() + 60
        while time.time() < deadline and not (hosts["good"].received() and hosts["rt"].received()):
            time.sleep(0.2)
        mx.wait_event("delivery.deferred", lambda e: "bogus.val.test" in str(e), timeout=30)

        t.eq("good: delivered once", len(hosts["good"].received()), 1)
        pol = [e for e in mx.events("tls.policy") if e.get("domain") == "good.val.test"]
        t.true("good: under DANE (TLSA validated by libunbound)",
               any(e.get("level") == "dane" and e.get("source") == "dane" for e in pol), str(pol)[:400])
        hs = [e for e in mx.events("tls.handshake") if e.get("domain") == "good.val.test"]
        t.true("good: tls.handshake at level dane", any(e.get("level") == "dane" for e in hs), str(hs)[:400])
        t.eq("bogus: nothing delivered", len(hosts["bogus"].received()), 0)
        deferred = [e for e in mx.events("delivery.deferred") if "bogus.val.test" in str(e)]
        t.true("bogus: deferred because of the TLSA lookup (DANE)", any("DANE" in str(e) for e in deferred),
               str(deferred)[:600])
        got = hosts["rt"].received()
        t.eq("rt: delivered once", len(got), 1)
        if got:
            t.true("rt: MAIL carries REQUIRETLS", "REQUIRETLS" in got[0]["mail_cmd"].upper(), got[0]["mail_cmd"])
        mx.stop()

        # The same non-validating server with trust-ad: nothing is secure.
        trust_ad = '{ resolver: "%s", dnssec: trust-ad }' % dns.endpoint
        mx.write_config(CONFIG % {"ca": ca.ca_file, "dns": trust_ad})
        mx.start(wait_for=[SUB])
        t.eq("trust-ad: REQUIRETLS accepted", submit("user@rt.val.test", "val rt trust-ad", True), 250)
        ev = mx.wait_event("delivery.bounced", lambda e: "rt.val.test" in str(e), timeout=30)
        t.true("trust-ad against a non-validating server: REQUIRETLS bounced 5.7.10",
               any("5.7.10" in str(e) for e in ev), str(ev)[:400])
        t.eq("trust-ad: nothing more delivered to rt", len(hosts["rt"].received()), 1)
    finally:
        if mx:
            mx.stop()
            if t.failures:
                mx.dump()
        for h in hosts.values():
            h.stop()
        home.stop()
        dns.stop()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
