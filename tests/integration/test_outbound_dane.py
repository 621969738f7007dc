"""DANE (RFC 7672) and DKIM signing on internet delivery (issue 3, SPEC §7).

Real parts: a DNSSEC-signed zone (dane.test.) served and validated by a
real unbound (lib/dnsserver.py; mxgate runs with dns.dnssec: trust-ad
against it), an unsigned zone (plain.test.), receiving MX hosts on
127.0.11.x:25 with STARTTLS and certificates from a private CA
(lib/outbound_peers.py), and python3-dkim verifying the DKIM signature
against the key published in the DNS zone.

Cases:
  ok       3 1 1 of the MX certificate's key, signed        -> delivered over TLS
  bad      3 1 1 of some other key, signed                  -> deferred, nothing delivered
  ta       2 1 1 of the CA, certificate names the MX        -> delivered
  taname   2 1 1 of the CA, certificate names another host  -> deferred
  insecure 3 1 1 of another key in the UNSIGNED zone        -> ignored: delivered
  unusable only a PKIX-EE (1 1 1) record, signed             -> TLS without authentication: delivered
  notls    signed 3 1 1, MX offers no STARTTLS               -> deferred, never plaintext
  required level dane (policies), no TLSA at all            -> deferred
  unusnotls  only unusable signed records, no STARTTLS        -> deferred (TLS still mandatory)
The mail is From: an owner domain with domains[].dkim: the delivered copy
carries a DKIM-Signature that python3-dkim verifies.

How outbound mail is queued without a submission account: the messages are
accepted on the mx listener while their recipient domains are owner domains
(downstream down), then mxgate restarts with a configuration in which they
are not: the queue routes them to the internet (route_for is per attempt).
Addresses: 127.0.11.x.
"""

import base64
import hashlib
import os
import re
import smtplib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import Check, Mxgate, skip  # noqa: E402

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from lib.outbound_peers import MxHost, TestCA  # noqa: E402
except ImportError as e:  # pragma: no cover
    skip(f"python3-cryptography missing: {e}")

MXL = ("127.0.11.1", 2525)
DNS_ADDR = "127.0.11.53"
SYSTEM_PYTHON = "/usr/bin/python3"  # python3-dkim is a Debian package

CASES = {  # name: (address, expect delivered)
    "ok": ("127.0.11.2", True),
    "bad": ("127.0.11.3", False),
    "ta": ("127.0.11.4", True),
    "taname": ("127.0.11.5", False),
    "insecure": ("127.0.11.6", True),
    "unusable": ("127.0.11.7", True),
    "notls": ("127.0.11.8", False),
    "required": ("127.0.11.9", False),
    "unusnotls": ("127.0.11.10", False),
}


def domain_of(name):
    return f"{name}.plain.test" if name in ("insecure", "required") else f"{name}.dane.test"


def spki_sha256_hex(cert_pem_path=None, public_key=None):
    if public_key is None:
        with open(cert_pem_path, "rb") as f:
            public_key = x509.load_pem_x509_certificate(f.read()).public_key()
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def txt_strings(value):
    return " ".join('"%s"' % value[i:i + 200] for i in range(0, len(value), 200))


CONFIG_ACCEPT = """
hostname: mx.owner.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.11.1:2525", tls: starttls }
tls: { self_signed: true, certificate: {dir}/cert.pem, key: {dir}/key.pem }
dns: { resolver: "%(dns)s", dnssec: trust-ad }
domains:
%(domains)s
queue: { retry: [1h], max_lifetime: 1d, delay_warning: 1d }
"""

CONFIG_DELIVER = """
hostname: mx.owner.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.11.1:2525", tls: starttls }
tls:
  self_signed: true
  certificate: {dir}/cert.pem
  key: {dir}/key.pem
  outbound:
    default: opportunistic
    use_dane: true
    use_mta_sts: false
    fallback: plaintext-logged
    policies:
      required.plain.test: { level: dane }
dns: { resolver: "%(dns)s", dnssec: trust-ad }
domains:
  - name: owner.test
    recipients: ["@owner.test"]
    downstream: { address: "127.0.11.99:2526", tls: none }
    dkim: { selector: mx1, key: "%(dkim_key)s" }
queue: { retry: [1h], max_lifetime: 1d, delay_warning: 1d }
"""

VERIFY_DKIM = r"""
import subprocess, sys, dkim
server, port, path = sys.argv[1], sys.argv[2], sys.argv[3]
def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    out = subprocess.run(["dig", "+short", "-p", port, "@" + server, "TXT", name.rstrip(".")],
                         capture_output=True, text=True, timeout=10).stdout
    parts = []
    for line in out.splitlines():
        parts.append("".join(s for i, s in enumerate(line.split('"')) if i % 2 == 1))
    return parts[0].encode() if parts else b""
msg = open(path, "rb").read()
d = dkim.DKIM(msg)
try:
    ok = d.verify(dnsfunc=dnsfunc)
except dkim.DKIMException as e:
    print("FAIL", e)
    sys.exit(0)
print("PASS" if ok else "FAIL", d.domain.decode() if d.domain else "")
"""


def main():
    if os.geteuid() != 0:
        skip("needs root: MX hosts listen on port 25")
    for tool in ("dig", "ldns-signzone"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            skip(f"{tool} is not installed (contrib/install-deps.sh)")
    if subprocess.run([SYSTEM_PYTHON, "-c", "import dkim"], capture_output=True).returncode != 0:
        skip("python3-dkim is not installed (contrib/install-deps.sh)")

    t = Check()
    work = tempfile.mkdtemp(prefix="mxgate-dane-")
    ca = TestCA(work, "mxgate DANE test CA")
    other_key = ec.generate_private_key(ec.SECP256R1())

    certs = {
        "ok": ca.issue("ok", ["mx.ok.dane.test"]),
        "bad": ca.issue("bad", ["mx.bad.dane.test"]),
        "ta": ca.issue("ta", ["mx.ta.dane.test"]),
        "taname": ca.issue("taname", ["somewhere.else.test"]),
        "insecure": ca.issue("insecure", ["mx.insecure.plain.test"]),
        "unusable": ca.issue("unusable", ["mx.unusable.dane.test"]),
        "required": ca.issue("required", ["mx.required.plain.test"]),
    }
    ca_spki = spki_sha256_hex(public_key=ca.cert.public_key())
    other_spki = spki_sha256_hex(public_key=other_key.public_key())
    leaf = {n: spki_sha256_hex(c[0]) for n, c in certs.items()}  # first PEM in the file is the leaf

    # DKIM key for owner.test, published at mx1._domainkey.owner.test.
    dkim_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    dkim_key_path = os.path.join(work, "owner.test.dkim.key")
    with open(dkim_key_path, "wb") as f:
        f.write(dkim_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    os.chmod(dkim_key_path, 0o600)
    dkim_pub = base64.b64encode(dkim_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()

    records = ['mx1._domainkey.owner.test. TXT ' + txt_strings("v=DKIM1; k=rsa; p=" + dkim_pub)]
    tlsa = {
        "ok": "3 1 1 " + leaf["ok"],
        "bad": "3 1 1 " + other_spki,
        "ta": "2 1 1 " + ca_spki,
        "taname": "2 1 1 " + ca_spki,
        "insecure": "3 1 1 " + other_spki,
        "unusable": "1 1 1 " + leaf["unusable"],
        "notls": "3 1 1 " + other_spki,
        "unusnotls": "0 1 1 " + other_spki,
    }
    for name, (addr, _) in CASES.items():
        dom = domain_of(name)
        records += [f"{dom}. MX 10 mx.{dom}.", f"mx.{dom}. A {addr}"]
        if name in tlsa:
            records.append(f"_25._tcp.mx.{dom}. TLSA {tlsa[name]}")

    try:
        dns = DnsServer(DNS_ADDR, None, records=records, signed_zones=["dane.test."],
                        zones=["plain.test.", "owner.test."]).start()
    except DnsServerUnavailable as e:
        skip(str(e))

    hosts = {}
    try:
        for name, (addr, _) in CASES.items():
            if name in ("notls", "unusnotls"):
                hosts[name] = MxHost(addr, "plain", name="mx." + domain_of(name)).start()
            else:
                hosts[name] = MxHost(addr, "tls", cert=certs[name], name="mx." + domain_of(name)).start()

        # The test zone really is signed and validated (AD), the other not.
        rc, ad, n = dns.query("_25._tcp.mx.ok.dane.test.", "TLSA", dnssec=True)
        t.true("signed zone answers with AD", rc == 0 and ad and n >= 1, f"rcode={rc} ad={ad} n={n}")
        rc, ad, n = dns.query("_25._tcp.mx.insecure.plain.test.", "TLSA", dnssec=True)
        t.true("unsigned zone answers without AD", rc == 0 and not ad and n == 1, f"rcode={rc} ad={ad} n={n}")

        accept_domains = "\n".join(
            f'  - {{ name: {domain_of(n)}, recipients: ["@{domain_of(n)}"], '
            f'downstream: {{ address: "127.0.11.99:2526", tls: none }} }}' for n in CASES)
        mx = Mxgate(CONFIG_ACCEPT % {"dns": dns.endpoint, "domains": accept_domains}, name="dane")
        try:
            mx.start(wait_for=[MXL])
            for name in CASES:
                msg = (f"From: Alice <alice@owner.test>\r\nTo: user@{domain_of(name)}\r\n"
                       f"Subject: dane case {name}\r\nMessage-ID: <{name}@owner.test>\r\n\r\n"
                       f"case {name}\r\n.dot line\r\n").encode()
                with smtplib.SMTP(*MXL) as s:
                    s.sendmail("alice@owner.test", [f"user@{domain_of(name)}"], msg)
            mx.wait_event("queue.accepted", count=len(CASES))
        finally:
            mx.stop()

        mx.write_config(CONFIG_DELIVER % {"dns": dns.endpoint, "dkim_key": dkim_key_path})
        r = mx.run("check-config")
        t.eq("check-config accepts use_dane, level dane and dkim", r.returncode, 0)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
        try:
            mx.start(wait_for=[MXL])
            mx.run("queue", "flush")
            deadline = time.time() + 60
            want = [n for n, (_, d) in CASES.items() if d]
            while time.time() < deadline:
                if all(hosts[n].received() for n in want):
                    break
                time.sleep(0.2)
            # Give the cases that must not deliver time to (not) do so.
            for name in [n for n, (_, d) in CASES.items() if not d]:
                mx.wait_event("delivery.deferred", lambda e, n=name: domain_of(n) in str(e), timeout=30)

            for name, (_, deliver) in CASES.items():
                got = hosts[name].received()
                if deliver:
                    t.eq(f"{name}: delivered once", len(got), 1)
                    if got and name != "notls":
                        t.true(f"{name}: over TLS", got[0]["tls"])
                else:
                    t.eq(f"{name}: nothing delivered", len(got), 0)

            def deferred_with(name, text):
                evs = [e for e in mx.events("delivery.deferred") if domain_of(name) in str(e)]
                return any(text in str(e) for e in evs), evs

            ok, evs = deferred_with("bad", "DANE verification failed")
            t.true("bad: deferred for the DANE mismatch (reason)", ok, str(evs)[:600])
            ok, evs = deferred_with("bad", "no TLSA record matches")
            t.true("bad: deferred for the DANE mismatch", ok, str(evs)[:600])
            ok, evs = deferred_with("taname", "DANE-TA name check")
            t.true("taname: deferred (DANE-TA name check)", ok, str(evs)[:600])
            ok, evs = deferred_with("notls", "STARTTLS")
            t.true("notls: deferred, not sent in plaintext", ok, str(evs)[:600])
            ok, evs = deferred_with("unusnotls", "STARTTLS")
            t.true("unusnotls: unusable signed records still forbid plaintext", ok, str(evs)[:600])
            ok, evs = deferred_with("required", "dane")
            t.true("required: level dane without TLSA defers", ok, str(evs)[:600])
            fail_ev = [e for e in mx.events("tls.handshake_failed") if e.get("domain") == "bad.dane.test"]
            t.true("bad: tls.handshake_failed names the DANE error",
                   any("DANE" in e.get("error", "") for e in fail_ev), str(fail_ev)[:400])
            pol = [e for e in mx.events("tls.policy") if e.get("domain") == "ok.dane.test"]
            t.true("ok: tls.policy says level dane, source dane",
                   any(e.get("level") == "dane" and e.get("source") == "dane" for e in pol), str(pol)[:400])
            pol = [e for e in mx.events("tls.policy") if e.get("domain") == "insecure.plain.test"]
            t.true("insecure: tls.policy not from DANE",
                   pol and all(e.get("source") != "dane" for e in pol), str(pol)[:400])
            plain = [e for e in mx.events("tls.plaintext_fallback") if "dane.test" in str(e.get("domain"))]
            t.eq("no plaintext fallback for a DANE host", plain, [])

            # DKIM: the delivered copy verifies against the key in DNS.
            got = hosts["ok"].received()
            if got:
                data = got[0]["data"]
                data = data if isinstance(data, bytes) else data.encode()
                data = re.sub(rb"(^|\r\n)\.", rb"\1", data)  # the peer keeps the dot-stuffing
                t.true("ok: DKIM-Signature added", data.startswith(b"DKIM-Signature: "), data[:200])
                path = os.path.join(work, "ok.eml")
                with open(path, "wb") as f:
                    f.write(data)
                v = subprocess.run([SYSTEM_PYTHON, "-c", VERIFY_DKIM, DNS_ADDR, str(dns.port), path],
                                   capture_output=True, text=True, timeout=60)
                t.eq("ok: python3-dkim verifies the signature (d=owner.test)", v.stdout.strip(), "PASS owner.test")
                if v.returncode != 0:
                    print(v.stderr[-2000:])
                tampered = data.replace(b"case ok", b"case KO")
                with open(path, "wb") as f:
                    f.write(tampered)
                v = subprocess.run([SYSTEM_PYTHON, "-c", VERIFY_DKIM, DNS_ADDR, str(dns.port), path],
                                   capture_output=True, text=True, timeout=60)
                t.true("tampered body fails DKIM verification", v.stdout.startswith("FAIL"), v.stdout + v.stderr[-500:])
        finally:
            mx.stop()
            if t.failures:
                mx.dump()
    finally:
        for h in hosts.values():
            h.stop()
        dns.stop()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
