"""Downstream TLS modes against real Postfix home boxes (SPEC §3
domains[].downstream.tls: verify | pin | encrypt | opportunistic | none).

  pf_tls    127.0.5.2:2526  STARTTLS with a self-signed certificate for
                            home.example.test (resolved through a real DNS)
  pf_plain  127.0.5.3:2526  no STARTTLS at all
  pf_broken 127.0.5.4:2526  offers STARTTLS, but every handshake fails
                            (its certificate file is not a certificate)

Expected: pin (right pin) and verify (trusted, right name) deliver over TLS;
a wrong pin, an untrusted chain and a wrong name defer and never fall back
to plaintext; encrypt to a server without STARTTLS defers; opportunistic
delivers in plaintext when STARTTLS is not offered, and after a failed
handshake retries in plaintext with a tls.plaintext_fallback event — or
defers when tls.outbound.fallback is "defer". Addresses: 127.0.5.x.
"""

import os
import smtplib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import Check, Mxgate, skip  # noqa: E402
from lib.postfix import PrivatePostfix  # noqa: E402

MX = ("127.0.5.1", 2525)
DOMAINS = {
    # domain: (downstream address, tls mode, extra)
    "pin-ok.test": ("home.example.test:2526", "pin", "PIN"),
    "pin-bad.test": ("home.example.test:2526", "pin", "BADPIN"),
    "verify-ok.test": ("home.example.test:2526", "verify", ""),
    "verify-name.test": ("127.0.5.2:2526", "verify", ""),  # certificate is for home.example.test
    "encrypt-ok.test": ("127.0.5.2:2526", "encrypt", ""),
    "encrypt-plain.test": ("127.0.5.3:2526", "encrypt", ""),
    "opp-plain.test": ("127.0.5.3:2526", "opportunistic", ""),
    "opp-broken.test": ("127.0.5.4:2526", "opportunistic", ""),
    "none.test": ("127.0.5.2:2526", "none", ""),
}


def make_cert(dirname, cn):
    key, cert = os.path.join(dirname, "key.pem"), os.path.join(dirname, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "30", "-subj", f"/CN={cn}",
                    "-addext", f"subjectAltName=DNS:{cn}"], check=True, capture_output=True)
    os.chmod(key, 0o644)
    pubkey = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pubkey, check=True, capture_output=True).stdout
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der, check=True, capture_output=True).stdout
    pin = subprocess.run(["base64"], input=digest, check=True, capture_output=True).stdout.decode().strip()
    return cert, key, "sha256:" + pin


def config(pin, ca_file, fallback):
    doms = ""
    for name, (addr, mode, extra) in DOMAINS.items():
        pins = ""
        if extra == "PIN":
            pins = f', pin: ["{pin}"]'
        elif extra == "BADPIN":
            pins = ', pin: ["sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]'
        doms += f'  - name: {name}\n    recipients: ["@{name}"]\n    downstream: {{ address: "{addr}", tls: {mode}{pins} }}\n'
    return f"""
hostname: mx.tls.test
spool: {{spool}}
log: {{ format: json, file: {{log}} }}
listeners:
  - {{ name: mx, role: mx, address: "127.0.5.1:2525", tls: none }}
tls:
  ca_file: {ca_file}
  outbound: {{ fallback: {fallback} }}
dns: {{ resolver: "127.0.5.53:5353" }}
domains:
{doms}
# This test is about relaying, not sender authentication (SPEC §6 has its own test).
policy: {{ spf: {{ enabled: false }}, dkim: {{ verify: false }}, dmarc: {{ enforce: false }} }}
queue: {{ retry: [1h], max_lifetime: 5d }}
"""


def send(rcpt):
    s = smtplib.SMTP(*MX)
    s.ehlo("client.test")
    s.sendmail("sender@elsewhere.test", [rcpt], f"Subject: {rcpt}\r\nX-Case: {rcpt}\r\n\r\nbody\r\n".encode())
    s.quit()


def outcome(mx, rcpt, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for e in mx.events():
            if rcpt in e.get("recipients", []) and e["event"] in ("delivery.success", "delivery.deferred", "delivery.bounced"):
                return e
        time.sleep(0.1)
    return None


def main():
    t = Check()
    certdir = tempfile.mkdtemp(prefix="tlscerts-")
    os.chmod(certdir, 0o755)
    cert, key, pin = make_cert(certdir, "home.example.test")
    broken = os.path.join(certdir, "broken.pem")
    with open(broken, "w") as f:
        f.write("not a certificate\n")
    try:
        dns = DnsServer("127.0.5.53", 5353, records=["home.example.test. A 127.0.5.2"]).start()
    except DnsServerUnavailable as e:
        skip(str(e))
    all_domains = list(DOMAINS)
    pf_tls = PrivatePostfix("127.0.5.2", 2526, all_domains, tls_cert=cert, tls_key=key)
    pf_plain = PrivatePostfix("127.0.5.3", 2526, all_domains)
    pf_broken = PrivatePostfix("127.0.5.4", 2526, all_domains, tls_cert=broken, tls_key=broken)
    try:
        pf_tls.start()
        pf_plain.start()
        pf_broken.start()

        with Mxgate(config(pin, cert, "plaintext-logged"), name="dtls") as mx:
            mx.start(wait_for=[MX])
            for d in DOMAINS:
                send(f"user@{d}")
            expect = {
                "pin-ok.test": "delivery.success",
                "pin-bad.test": "delivery.deferred",
                "verify-ok.test": "delivery.success",
                "verify-name.test": "delivery.deferred",
                "encrypt-ok.test": "delivery.success",
                "encrypt-plain.test": "delivery.deferred",
                "opp-plain.test": "delivery.success",
                "opp-broken.test": "delivery.success",
                "none.test": "delivery.success",
            }
            for d, want in expect.items():
                e = outcome(mx, f"user@{d}")
                t.eq(f"{d} outcome", e and e["event"], want)
                if e and want == "delivery.deferred":
                    t.true(f"{d} deferral says why", bool(e.get("reason")), e)

            # what each home box saw: TLS where required, plaintext nowhere it must not be
            tls_log = pf_tls.maillog()
            delivered_tls = [m for m in pf_tls.messages()]
            cases = {m.split(b"X-Case: ")[1].split(b"\n")[0].strip().decode() for m in delivered_tls if b"X-Case: " in m}
            t.eq("TLS home box got exactly the TLS-capable cases",
                 sorted(cases), sorted(["user@pin-ok.test", "user@verify-ok.test", "user@encrypt-ok.test", "user@none.test"]))
            t.true("TLS home box logged TLS connections", "TLS connection established" in tls_log, tls_log[-1500:])
            def postfix_received(case):
                # Postfix's own Received: is the first header of the message
                m = [m for m in delivered_tls if b"X-Case: " + case in m][0]
                first = m.split(b"\nReceived: ", 2)
                return (b"Received: " + first[1]) if len(first) > 1 else m[:400]
            t.true("tls: none went in plaintext", b"using TLS" not in postfix_received(b"user@none.test"),
                   postfix_received(b"user@none.test"))
            t.true("tls: pin went over TLS", b"using TLS" in postfix_received(b"user@pin-ok.test"),
                   postfix_received(b"user@pin-ok.test"))
            t.true("a wrong pin never reached the home box",
                   not any(b"user@pin-bad.test" in m for m in pf_tls.messages() + pf_plain.messages() + pf_broken.messages()))
            t.true("a wrong name never reached the home box",
                   not any(b"user@verify-name.test" in m for m in pf_tls.messages()))
            t.true("encrypt never went in plaintext", not any(b"user@encrypt-plain.test" in m for m in pf_plain.messages()))
            broken_msgs = pf_broken.messages()
            t.true("opportunistic fallback delivered in plaintext", any(b"user@opp-broken.test" in m for m in broken_msgs))
            fb = mx.events("tls.plaintext_fallback")
            t.true("tls.plaintext_fallback logged with destination, host, error and queue id",
                   any(e.get("domain") == "opp-broken.test" and e.get("mx") and e.get("error") and e.get("queue_id") for e in fb), fb)
            t.eq("no fallback event for a server that offers no STARTTLS",
                 [e for e in fb if e.get("domain") == "opp-plain.test"], [])
            hs = mx.events("tls.handshake")
            t.true("tls.handshake events for the TLS deliveries",
                   {e.get("domain") for e in hs} >= {"pin-ok.test", "verify-ok.test", "encrypt-ok.test"}, hs)

        # fallback: defer → the broken-TLS home box gets nothing
        with Mxgate(config(pin, cert, "defer"), name="dtls-defer") as mx:
            mx.start(wait_for=[MX])
            before = len(pf_broken.messages())
            send("second@opp-broken.test")
            e = outcome(mx, "second@opp-broken.test")
            t.eq("fallback: defer defers", e and e["event"], "delivery.deferred")
            time.sleep(1)
            t.eq("fallback: defer delivered nothing in plaintext", len(pf_broken.messages()), before)
            t.eq("no plaintext fallback event under defer", mx.events("tls.plaintext_fallback"), [])
    finally:
        for pf in (pf_tls, pf_plain, pf_broken):
            pf.stop()
        dns.stop()
    t.done()


if __name__ == "__main__":
    main()
