"""`mxgate probe` (SPEC §8) against real servers. Addresses 127.0.13.1-49.

  dns        127.0.13.53:53   unbound serving probe.test, DNSSEC-signed:
                              MX mx.probe.test, _mta-sts TXT, TLS-RPT TXT,
                              TLSA 3 1 1 for _25._tcp.mx.probe.test
  mxgate     127.0.13.2:25    mx listener, STARTTLS, modern profile (and :465
                              implicit TLS for --submission),
                              certificate for mx.probe.test from a test CA
  https      127.0.13.3:443   the MTA-STS policy (Python ssl + http.server)
  pf_weak    127.0.13.5:25    Postfix: no STARTTLS, AUTH (Cyrus sasldb)
                              offered and accepted in plaintext
  pf_tls1    127.0.13.6:25    Postfix: STARTTLS with TLS 1.0 and every
                              cipher OpenSSL has (security level 0)

Expected: mxgate gives no FAIL (exit 0) and PASSes STARTTLS, TLS 1.0/1.1
refused, TLS 1.2/1.3 accepted, chain + name, injection, MTA-STS record,
policy and MX match, DANE, TLS-RPT; pf_weak FAILs starttls.offered,
auth.advertised_plaintext and auth.accepted_plaintext (exit 1); pf_tls1
FAILs tls.version.TLSv1 and passes injection; --json parses; usage errors
exit 2.
"""

import base64
import hashlib
import http.server
import json
import os
import pwd
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import MXGATE_BIN, Check, Mxgate, require, skip  # noqa: E402
from lib.postfix import PrivatePostfix  # noqa: E402

POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mx.probe.test\r\nmax_age: 86400\r\n"


def openssl(*args, input=None):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, input=input).stdout


def make_ca(d):
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
            "-out", ca, "-days", "30", "-subj", "/CN=probe test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    return ca, ca_key


def make_leaf(d, ca, ca_key, name, rsa=False):
    key, csr, cert = (os.path.join(d, f"{name}.{x}") for x in ("key", "csr", "pem"))
    keyopts = ["-newkey", "rsa:2048"] if rsa else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    openssl("req", "-new", *keyopts, "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
    ext = os.path.join(d, f"{name}.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "30",
            "-extfile", ext)
    os.chmod(key, 0o644)
    return cert, key


def spki_sha256_hex(cert):
    pub = openssl("x509", "-in", cert, "-pubkey", "-noout")
    der = openssl("pkey", "-pubin", "-outform", "der", input=pub)
    return hashlib.sha256(der).hexdigest()


class PolicyServer:
    """HTTPS on 127.0.13.3:443 serving /.well-known/mta-sts.txt."""

    def __init__(self, cert, key):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/.well-known/mta-sts.txt":
                    self.send_error(404)
                    return
                body = POLICY.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.13.3", 443), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()


def probe(*args, config=None, timeout=180):
    cmd = [MXGATE_BIN, "probe", *args, "--timeout", "10", "--wait", "2"]
    if config:
        cmd += ["-c", config]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def statuses(r):
    out = {}
    for line in r.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] in ("PASS", "WARN", "FAIL", "SKIP"):
            out[parts[1]] = parts[0]
    return out


def sasl_postfix_extra(d):
    """Cyrus SASL for a private Postfix: sasldb with one user, PLAIN/LOGIN."""
    require("saslpasswd2")
    sasl_dir = os.path.join(d, "sasl")
    os.makedirs(sasl_dir)
    db = os.path.join(sasl_dir, "sasldb2")
    subprocess.run(["saslpasswd2", "-f", db, "-c", "-p", "-u", "probe.test", "someone"], input=b"unused-secret",
                   check=True, capture_output=True)
    pw = pwd.getpwnam("postfix")
    os.chown(db, pw.pw_uid, pw.pw_gid)
    os.chmod(sasl_dir, 0o755)
    with open(os.path.join(sasl_dir, "smtpd.conf"), "w") as f:
        f.write(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: {db}\nmech_list: PLAIN LOGIN\n")
    return (f"smtpd_sasl_auth_enable = yes\nsmtpd_sasl_type = cyrus\nsmtpd_sasl_path = smtpd\n"
            f"cyrus_sasl_config_path = {sasl_dir}\nsmtpd_tls_auth_only = no\n")


def main():
    t = Check()
    require("openssl")
    d = tempfile.mkdtemp(prefix="probe-")
    os.chmod(d, 0o755)
    ca, ca_key = make_ca(d)
    mx_cert, mx_key = make_leaf(d, ca, ca_key, "mx.probe.test")
    sts_cert, sts_key = make_leaf(d, ca, ca_key, "mta-sts.probe.test")
    # RSA, so that static-RSA key exchange can be negotiated at all
    weak_cert, weak_key = make_leaf(d, ca, ca_key, "weak.probe.test", rsa=True)
    tlsa = spki_sha256_hex(mx_cert)
    records = [
        "probe.test. MX 10 mx.probe.test.",
        "mx.probe.test. A 127.0.13.2",
        "mta-sts.probe.test. A 127.0.13.3",
        "weak.probe.test. A 127.0.13.6",
        '_mta-sts.probe.test. TXT "v=STSv1; id=20261122T000000;"',
        '_smtp._tls.probe.test. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@probe.test"',
        f"_25._tcp.mx.probe.test. TLSA 3 1 1 {tlsa}",
    ]
    try:
        dns = DnsServer("127.0.13.53", 53, records=records, signed_zones=["probe.test."]).start()
    except DnsServerUnavailable as e:
        skip(str(e))
    probe_cfg = os.path.join(d, "probe.yaml")
    with open(probe_cfg, "w") as f:
        f.write(f"hostname: prober.probe.test\nspool: {d}/probe-spool\ntls: {{ ca_file: {ca} }}\n"
                f"dns: {{ resolver: \"127.0.13.53:53\" }}\nlisteners:\n"
                f"  - {{ name: mx, role: mx, address: \"127.0.0.1:1\", tls: none }}\n"
                f"domains: [{{ name: probe.test, recipients: [\"@probe.test\"], downstream: {{ address: \"127.0.13.9:25\", tls: none }} }}]\n")
    pf_weak = PrivatePostfix("127.0.13.5", 25, ["probe.test"], hostname="weak.probe.test",
                             extra_main=sasl_postfix_extra(d))
    pf_tls1 = PrivatePostfix("127.0.13.6", 25, ["probe.test"], hostname="weak.probe.test", tls_cert=weak_cert,
                             tls_key=weak_key,
                             extra_main="smtpd_tls_protocols = >=TLSv1\nsmtpd_tls_ciphers = low\n"
                                        "tls_low_cipherlist = ALL:COMPLEMENTOFALL:!eNULL:@SECLEVEL=0\n"
                                        "tls_config_file = none\n")
    mx_yaml = f"""
hostname: mx.probe.test
spool: {{spool}}
log: {{ format: json, file: {{log}} }}
listeners:
  - {{ name: mx, role: mx, address: "127.0.13.2:25", tls: starttls }}
  - {{ name: smtps, role: mx, address: "127.0.13.2:465", tls: implicit }}
tls: {{ certificate: {mx_cert}, key: {mx_key}, inbound: {{ profile: modern }} }}
domains:
  - {{ name: probe.test, recipients: ["@probe.test"], downstream: {{ address: "127.0.13.9:2525", tls: none }} }}
"""
    try:
        pf_weak.start()
        pf_tls1.start()
        with Mxgate(mx_yaml, name="probe-mx") as mx, PolicyServer(sts_cert, sts_key):
            mx.start(wait_for=[("127.0.13.2", 25)])

            # 1. mxgate itself, modern profile: no FAIL.
            r = probe("mx.probe.test", "--domain", "probe.test", config=probe_cfg)
            print(r.stdout)
            s = statuses(r)
            t.eq("probe mxgate: exit code (no FAIL)", r.returncode, 0)
            t.true("probe mxgate: no FAIL line", "FAIL" not in s.values(), r.stdout + r.stderr)
            for check, want in [("starttls.offered", "PASS"), ("tls.version.TLSv1", "PASS"),
                                ("tls.version.TLSv1.1", "PASS"), ("tls.version.TLSv1.2", "PASS"),
                                ("tls.version.TLSv1.3", "PASS"), ("certificate.chain", "PASS"),
                                ("certificate.name", "PASS"), ("starttls.injection", "PASS"),
                                ("auth.advertised_plaintext", "PASS"), ("auth.accepted_plaintext", "PASS"),
                                ("tls.cipher.static_rsa", "PASS"), ("tls.cipher.cbc_sha1", "PASS"),
                                ("tls.cipher.anonymous", "PASS"), ("domain.mx", "PASS"),
                                ("mta_sts.record", "PASS"), ("mta_sts.policy", "PASS"),
                                ("mta_sts.mx_match", "PASS"), ("dane.tlsa", "PASS"), ("tlsrpt.record", "PASS")]:
                t.eq(f"probe mxgate: {check}", s.get(check), want)

            # 2. the same in JSON
            r = probe("mx.probe.test", "--domain", "probe.test", "--json", config=probe_cfg)
            try:
                j = json.loads(r.stdout)
                t.eq("json: result", j["result"], "pass")
                t.eq("json: no fail in summary", j["summary"]["fail"], 0)
                t.true("json: checks have evidence", all(c["evidence"] for c in j["checks"]), r.stdout)
                t.eq("json: same checks as text", {c["id"]: c["status"] for c in j["checks"]}, s)
            except (ValueError, KeyError) as e:
                t.true("json output parses", False, f"{e}: {r.stdout!r}")

            # 2b. --submission on 465: implicit TLS
            r = probe("mx.probe.test:465", "--submission", config=probe_cfg)
            s465 = statuses(r)
            t.eq("465 implicit: exit 0", r.returncode, 0)
            t.eq("465 implicit: TLS from the first byte", s465.get("starttls.offered"), "PASS")
            t.true("465 implicit: says implicit", "implicit TLS" in r.stdout, r.stdout)
            t.eq("465 implicit: TLSv1 refused", s465.get("tls.version.TLSv1"), "PASS")
            t.eq("465 implicit: chain", s465.get("certificate.chain"), "PASS")
            t.true("465 implicit: no injection check", "starttls.injection" not in s465, r.stdout)

            # 3. a server without the name in its certificate: wrong --name FAILs
            r = probe("mx.probe.test", "--name", "other.probe.test", config=probe_cfg)
            t.eq("wrong name: certificate.name", statuses(r).get("certificate.name"), "FAIL")
            t.eq("wrong name: exit 1", r.returncode, 1)

        # 4. weak Postfix: no STARTTLS, AUTH in cleartext
        r = probe("127.0.13.5", config=probe_cfg)
        print(r.stdout)
        s = statuses(r)
        t.eq("pf_weak: exit 1", r.returncode, 1)
        t.eq("pf_weak: starttls.offered", s.get("starttls.offered"), "FAIL")
        t.eq("pf_weak: auth.advertised_plaintext", s.get("auth.advertised_plaintext"), "FAIL")
        t.eq("pf_weak: auth.accepted_plaintext", s.get("auth.accepted_plaintext"), "FAIL")
        t.true("pf_weak: evidence names the mechanisms", "PLAIN" in r.stdout, r.stdout)
        t.true("pf_weak: no TLS checks without STARTTLS", "tls.version.TLSv1" not in s, r.stdout)

        # 5. Postfix with TLS 1.0 allowed
        r = probe("weak.probe.test", config=probe_cfg)
        print(r.stdout)
        s = statuses(r)
        t.eq("pf_tls1: exit 1", r.returncode, 1)
        t.eq("pf_tls1: TLSv1 accepted = FAIL", s.get("tls.version.TLSv1"), "FAIL")
        t.eq("pf_tls1: TLSv1.1 accepted = FAIL", s.get("tls.version.TLSv1.1"), "FAIL")
        t.eq("pf_tls1: TLSv1.2 accepted", s.get("tls.version.TLSv1.2"), "PASS")
        t.eq("pf_tls1: starttls.offered", s.get("starttls.offered"), "PASS")
        t.eq("pf_tls1: Postfix discards injected plaintext", s.get("starttls.injection"), "PASS")
        t.eq("pf_tls1: static RSA accepted = WARN", s.get("tls.cipher.static_rsa"), "WARN")
        t.eq("pf_tls1: chain trusted (test CA)", s.get("certificate.chain"), "PASS")

        r = probe("weak.probe.test", "--json", config=probe_cfg)
        try:
            j = json.loads(r.stdout)
            t.eq("pf_tls1 json: result fail", j["result"], "fail")
            t.true("pf_tls1 json: TLSv1 FAIL", any(c["id"] == "tls.version.TLSv1" and c["status"] == "FAIL"
                                                   for c in j["checks"]), r.stdout)
        except (ValueError, KeyError) as e:
            t.true("pf_tls1 json parses", False, f"{e}: {r.stdout!r}")

        # 6. usage errors
        t.eq("no host: exit 2", probe().returncode, 2)
        t.eq("bad port: exit 2", probe("host:99999").returncode, 2)
        t.eq("smuggling needs an address: exit 2", probe("h", "--smuggling-test", "nobody").returncode, 2)
        # 7. nothing listening: FAIL connect, exit 1
        r = probe("127.0.13.40:2599")
        t.eq("unreachable: connect FAIL", statuses(r).get("connect"), "FAIL")
        t.eq("unreachable: exit 1", r.returncode, 1)
    finally:
        pf_weak.stop()
        pf_tls1.stop()
        dns.stop()
    t.done()


if __name__ == "__main__":
    main()
