"""REQUIRETLS (RFC 8689) end to end (issue 3, scope item 9; docs/requiretls.md).

Real parts: a submission listener with a real sasldb user (saslpasswd2),
Python smtplib as the submitting client (mail(..., options=["REQUIRETLS"]))
and swaks for the EHLO/STARTTLS view, a real unbound serving a
DNSSEC-signed zone (sig.test.) and an unsigned one (plain.test.)
(lib/dnsserver.py; mxgate runs with dns.dnssec: trust-ad against it),
receiving MX hosts on 127.0.15.x:25: a real Postfix 3.7 with a verified
certificate (Postfix does not implement REQUIRETLS: the "next hop lacks
REQUIRETLS" case), and the MxHost fixture from lib/outbound_peers.py that
offers REQUIRETLS after STARTTLS (no Debian MTA implements RFC 8689, so the
capable next hop has to be a test fixture). Certificates come from a
private CA that tls.ca_file trusts.

Cases:
  receiving side
    EHLO before TLS (submission and mx)            -> no REQUIRETLS keyword
    EHLO after TLS on submission                   -> REQUIRETLS
    mx listener whose downstreams are tls: none    -> not advertised after TLS, MAIL ... REQUIRETLS 555 5.7.30
    MAIL ... REQUIRETLS in plaintext on mx         -> 530 5.7.10
    REQUIRETLS RCPT to an owner domain whose downstream is tls: none -> 550 5.7.30
  delivery (REQUIRETLS messages)
    good.sig.test: signed MX, verified cert, REQUIRETLS next hop -> delivered, MAIL carries REQUIRETLS
    pf.sig.test:   signed MX, verified cert, Postfix (no REQUIRETLS) -> bounced 5.7.30, DSN headers only
    wrong.sig.test: signed MX, certificate for another name        -> bounced 5.7.10
    good.plain.test: unsigned MX, no MTA-STS, capable next hop      -> bounced 5.7.10, nothing sent
  the same messages without REQUIRETLS to pf.sig.test, good.plain.test and
  wrong.sig.test                                  -> delivered as before (opportunistic)
  TLS-Required: No (RFC 8689 §3), dane.sig.test: signed TLSA record that
  matches no key of the MX (a DANE mismatch)
    normal message                                 -> deferred (DANE), nothing sent
    with TLS-Required: No                          -> delivered (recipient-side policy set aside)
    with TLS-Required: No and REQUIRETLS           -> header ignored: bounced 5.7.10
Addresses: 127.0.15.x.
"""

import os
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import CaptureSink, Check, Mxgate, RawSmtp, require, skip  # noqa: E402

try:
    from lib.outbound_peers import MxHost, TestCA  # noqa: E402
except ImportError as e:  # pragma: no cover
    skip(f"python3-cryptography missing: {e}")

HOST = "127.0.15.1"
MXL = (HOST, 2525)
SUB = (HOST, 2587)
HOME = ("127.0.15.99", 2526)
DNS_ADDR = "127.0.15.53"
REALM = "mx.owner.test"
PASSWORD = "Alice-rt-8689"

MX = {  # case: (address, zone)
    "good": ("127.0.15.2", "sig.test"),
    "pf": ("127.0.15.3", "sig.test"),
    "wrong": ("127.0.15.4", "sig.test"),
    "plaingood": ("127.0.15.5", "plain.test"),
    "dane": ("127.0.15.6", "sig.test"),
}


def domain(case):
    return ("good.plain.test" if case == "plaingood" else f"{case}.sig.test")


CONFIG = """
hostname: mx.owner.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.15.1:2525", tls: starttls }
  - { name: submission, role: submission, address: "127.0.15.1:2587", tls: starttls }
tls:
  self_signed: true
  certificate: {dir}/cert.pem
  key: {dir}/key.pem
  ca_file: "%(ca)s"
  outbound: { default: opportunistic, use_mta_sts: true, use_dane: true, fallback: plaintext-logged }
dns: { resolver: "%(dns)s", dnssec: trust-ad }
domains:
  - name: owner.test
    recipients: ["@owner.test"]
    downstream: { address: "127.0.15.99:2526", tls: none }
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


def message(subject, to, extra=""):
    return (f"From: Alice <alice@owner.test>\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}"
            f"Message-ID: <{subject.replace(' ', '-')}@owner.test>\r\n\r\n"
            f"secret body of {subject}\r\n").encode()


def submit(to, subject, requiretls, extra=""):
    """Submits over STARTTLS + AUTH PLAIN; returns (code, text) of MAIL, or of the end of data."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP(*SUB, timeout=30) as s:
        s.ehlo("client.owner.test")
        s.starttls(context=ctx)
        s.ehlo("client.owner.test")
        s.login("alice", PASSWORD)
        code, text = s.mail("alice@owner.test", options=["REQUIRETLS"] if requiretls else [])
        if code != 250:
            return code, text.decode()
        code, text = s.rcpt(to)
        if code != 250:
            return code, text.decode()
        code, text = s.data(message(subject, to, extra))
        return code, text.decode()


def swaks_ehlo(*extra):
    r = subprocess.run(["swaks", "--server", SUB[0], "--port", str(SUB[1]), "--quit-after", "EHLO",
                        "--ehlo", "client.owner.test", *extra], capture_output=True, text=True, timeout=60)
    return r.stdout + r.stderr


def main():
    if os.geteuid() != 0:
        skip("needs root: MX hosts listen on port 25, Postfix")
    require("swaks")
    require("saslpasswd2")
    for tool in ("dig", "ldns-signzone", "postfix"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            skip(f"{tool} is not installed (contrib/install-deps.sh)")
    from lib.postfix import PrivatePostfix  # after the root check (it skips itself otherwise)

    t = Check()
    work = tempfile.mkdtemp(prefix="mxgate-requiretls-")
    os.chmod(work, 0o755)  # Postfix (user postfix) reads its key from here
    ca = TestCA(work, "mxgate REQUIRETLS test CA")
    certs = {
        "good": ca.issue("good", ["mx.good.sig.test"]),
        "pf": ca.issue("pf", ["mx.pf.sig.test"]),
        "wrong": ca.issue("wrong", ["somewhere.else.test"]),
        "plaingood": ca.issue("plaingood", ["mx.good.plain.test"]),
        "dane": ca.issue("dane", ["mx.dane.sig.test"]),
    }
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(other)
    other_spki = digest.finalize().hex()
    for crt, key in certs.values():
        os.chmod(crt, 0o644)
        os.chmod(key, 0o644)

    records = []
    for case, (addr, _) in MX.items():
        d = domain(case)
        records += [f"{d}. MX 10 mx.{d}.", f"mx.{d}. A {addr}"]
    records.append(f"_25._tcp.mx.dane.sig.test. TLSA 3 1 1 {other_spki}")
    try:
        dns = DnsServer(DNS_ADDR, None, records=records, signed_zones=["sig.test."], zones=["plain.test."]).start()
    except DnsServerUnavailable as e:
        skip(str(e))

    hosts = {}
    pf = None
    home = CaptureSink(*HOME).start()
    mx = None
    try:
        for case in ("good", "wrong", "plaingood", "dane"):
            hosts[case] = MxHost(MX[case][0], "tls", cert=certs[case], name="mx." + domain(case),
                                 after_tls=["REQUIRETLS"]).start()
        pf = PrivatePostfix(MX["pf"][0], 25, domains=["pf.sig.test"], tls_cert=certs["pf"][0],
                            tls_key=certs["pf"][1], hostname="mx.pf.sig.test").start()

        rc, ad, n = dns.query("good.sig.test.", "MX", dnssec=True)
        t.true("signed zone: MX answer with AD", rc == 0 and ad and n >= 1, f"rcode={rc} ad={ad} n={n}")
        rc, ad, n = dns.query("good.plain.test.", "MX", dnssec=True)
        t.true("unsigned zone: MX answer without AD", rc == 0 and not ad and n == 1, f"rcode={rc} ad={ad} n={n}")

        mx = Mxgate(CONFIG % {"dns": dns.endpoint, "ca": ca.ca_file}, name="requiretls")
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", os.path.join(mx.dir, "sasldb2"), "-u", REALM, "alice"],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        r = mx.run("check-config")
        t.eq("check-config", r.returncode, 0)
        mx.start(wait_for=[MXL, SUB])

        # --- receiving side -------------------------------------------------
        out = swaks_ehlo()
        t.true("submission EHLO before TLS: no REQUIRETLS", "STARTTLS" in out and "REQUIRETLS" not in out, out[-800:])
        out = swaks_ehlo("--tls")
        t.true("submission EHLO after TLS (swaks --tls): REQUIRETLS", "250-REQUIRETLS" in out or "250 REQUIRETLS" in out,
               out[-800:])

        c = RawSmtp(*MXL)
        c.reply()
        code, text = c.cmd("EHLO client.test")
        t.true("mx EHLO before TLS: no REQUIRETLS", code == 250 and "REQUIRETLS" not in text, text)
        code, text = c.cmd("MAIL FROM:<x@client.test> REQUIRETLS")
        t.eq("mx: MAIL ... REQUIRETLS in plaintext", (code, text[4:10]), (530, "5.7.10"))
        c.close()

        c = RawSmtp(*MXL)
        c.reply()
        c.cmd("EHLO client.test")
        code, text = c.cmd("STARTTLS")
        c.starttls()
        code, text = c.cmd("EHLO client.test")
        t.true("mx EHLO after TLS, downstream tls none: no REQUIRETLS", code == 250 and "REQUIRETLS" not in text, text)
        code, text = c.cmd("MAIL FROM:<x@client.test> REQUIRETLS")
        t.eq("mx after TLS: MAIL ... REQUIRETLS not offered", (code, text[4:10]), (555, "5.7.30"))
        c.close()

        # REQUIRETLS to an owner domain whose downstream is tls: none.
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP(*SUB, timeout=30) as s:
            s.ehlo("client.owner.test")
            s.starttls(context=ctx)
            s.ehlo("client.owner.test")
            t.true("smtplib sees REQUIRETLS after TLS", s.has_extn("requiretls"), s.esmtp_features)
            s.login("alice", PASSWORD)
            code, text = s.mail("alice@owner.test", options=["REQUIRETLS"])
            t.eq("submission: MAIL ... REQUIRETLS accepted over TLS", code, 250)
            code, text = s.rcpt("bob@owner.test")
            t.true("REQUIRETLS RCPT to a downstream with tls: none -> 550 5.7.30",
                   code == 550 and text.decode().startswith("5.7.30"), (code, text))
            s.rset()

        # --- delivery -------------------------------------------------------
        rt_cases = ["good", "pf", "wrong", "plaingood"]
        for case in rt_cases:
            code, text = submit(f"user@{domain(case)}", f"rt {case}", True)
            t.eq(f"{case}: REQUIRETLS message accepted", code, 250)
        for case in ("pf", "plaingood", "wrong"):
            code, text = submit(f"user@{domain(case)}", f"plain {case}", False)
            t.eq(f"{case}: normal message accepted", code, 250)
        dane_to = "user@dane.sig.test"
        t.eq("dane: normal message accepted", submit(dane_to, "dane normal", False)[0], 250)
        t.eq("dane: TLS-Required: No message accepted",
             submit(dane_to, "dane optional", False, "TLS-Required: No\r\n")[0], 250)
        t.eq("dane: REQUIRETLS + TLS-Required: No accepted",
             submit(dane_to, "rt dane", True, "TLS-Required: No\r\n")[0], 250)

        # Delivered: good (REQUIRETLS), pf/plaingood/wrong normal messages.
        deadline = time.time() + 60
        while time.time() < deadline:
            if (hosts["good"].received() and hosts["plaingood"].received() and hosts["wrong"].received()
                    and len(pf.messages()) >= 1):
                break
            time.sleep(0.2)
        # Bounces: four REQUIRETLS messages -> four DSNs to alice (downstream).
        bounced = mx.wait_event("delivery.bounced", count=4, timeout=60)
        mx.wait_event("delivery.deferred", lambda e: "dane.sig.test" in str(e), timeout=30)
        deadline = time.time() + 30
        while time.time() < deadline and not hosts["dane"].received():
            time.sleep(0.2)
        dane_got = hosts["dane"].received()
        t.eq("dane: only the TLS-Required: No message was delivered",
             [m["data"].decode().split("Subject: ")[1].split("\r\n")[0] for m in dane_got], ["dane optional"])
        deferred = [e for e in mx.events("delivery.deferred") if "dane.sig.test" in str(e)]
        t.true("dane: the normal message deferred for the DANE mismatch", any("DANE" in str(e) for e in deferred),
               str(deferred)[:500])
        pol = [e for e in mx.events("tls.policy") if e.get("reason") == "tls-required-no"]
        t.true("dane: tls.policy reason tls-required-no", len(pol) == 1 and pol[0].get("domain") == "dane.sig.test",
               str(pol)[:400])

        got = hosts["good"].received()
        t.eq("good: delivered once", len(got), 1)
        if got:
            t.true("good: over TLS", got[0]["tls"])
            t.true("good: MAIL FROM carries REQUIRETLS", "REQUIRETLS" in got[0]["mail_cmd"].upper(), got[0]["mail_cmd"])
        plain_got = hosts["plaingood"].received()
        t.eq("plaingood: only the normal message arrived", [("rt " in m["data"].decode()) for m in plain_got], [False])
        if plain_got:
            t.true("plaingood: the normal message has no REQUIRETLS", "REQUIRETLS" not in plain_got[0]["mail_cmd"].upper(),
                   plain_got[0]["mail_cmd"])
        wrong_got = hosts["wrong"].received()
        t.eq("wrong: only the normal message arrived (opportunistic TLS)",
             [("rt " in m["data"].decode()) for m in wrong_got], [False])
        pf_msgs = pf.messages()
        t.eq("pf (Postfix): only the normal message arrived", [b"Subject: plain pf" in m for m in pf_msgs], [True])

        def bounce_of(case):
            return [e for e in bounced if domain(case) in str(e.get("recipients", "")) or domain(case) in str(e)]

        for case, status in (("pf", "5.7.30"), ("wrong", "5.7.10"), ("plaingood", "5.7.10"), ("dane", "5.7.10")):
            evs = bounce_of(case)
            t.true(f"{case}: delivery.bounced with {status}", any(status in str(e) for e in evs), str(evs)[:600])

        # The DSNs go to alice@owner.test (downstream): status codes, headers only.
        dsns = home.wait(4, timeout=60)
        texts = [d[2].decode("utf-8", "replace") for d in dsns]
        for case, status in (("pf", "5.7.30"), ("wrong", "5.7.10"), ("plaingood", "5.7.10"), ("dane", "5.7.10")):
            mine = [x for x in texts if f"user@{domain(case)}" in x]
            t.true(f"{case}: DSN with Status: {status}", any(f"Status: {status}" in x for x in mine), str(mine)[:800])
            t.true(f"{case}: DSN returns headers only (RFC 8689 §5)",
                   mine and all("text/rfc822-headers" in x and "secret body" not in x for x in mine), str(mine)[:800])
        t.true("DSNs come from <>", all(d[0] == "" for d in dsns), [d[0] for d in dsns])

        pol = [e for e in mx.events("tls.policy") if e.get("reason") == "requiretls"]
        t.true("tls.policy events name REQUIRETLS", len(pol) >= 1, str(pol)[:400])
        t.true("no plaintext fallback for REQUIRETLS mail",
               not [e for e in mx.events("tls.plaintext_fallback") if "rt " in str(e)])
    finally:
        if mx:
            mx.stop()
            if t.failures:
                mx.dump()
        for h in hosts.values():
            h.stop()
        if pf:
            if t.failures:
                print(pf.maillog()[-2000:])
            pf.stop()
        home.stop()
        dns.stop()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
