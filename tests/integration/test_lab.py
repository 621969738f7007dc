"""Lab listeners (SPEC §3 `role: lab`, §8) observed with real clients:
swaks and `openssl s_client`. Addresses 127.0.13.100-199.

  lab-strip     127.0.13.101:2525  starttls: strip
  lab-454       127.0.13.102:2525  starttls: refuse-454
  lab-fail      127.0.13.103:2525  starttls: fail-handshake
  lab-tls1      127.0.13.104:2525  offer, protocols: [TLSv1]
  lab-expired   127.0.13.105:2525  offer, certificate: expired
  lab-wrongname 127.0.13.106:2525  offer, certificate: wrong-name
  lab-trap      127.0.13.107:2525  offer, auth_trap: true
  lab-selfsign  127.0.13.108:2525  offer, certificate: self-signed
Clients connect from 127.0.13.150-199 (one address per scenario), so each
scenario's lab.client events are told apart by `client`.

Expected: each client behaviour is one lab.client event with the right
`result` (docs/lab.md); swaks --tls fails where TLS is stripped, refused or
broken and --tls-optional continues in plaintext; s_client -tls1 succeeds
and -tls1_2 fails on the TLSv1-only lab; s_client's verify result shows the
expired and wrong-name certificates (with the lab CA trusted); the auth trap
records the user and never the password (grep of every log finds nothing);
nothing is ever spooled (554 at end of data).
"""

import base64
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib.harness import MXGATE_BIN, Check, Mxgate, RawSmtp, require  # noqa: E402

LABS = {
    "lab-strip": ("127.0.13.101", "{ starttls: strip }"),
    "lab-454": ("127.0.13.102", "{ starttls: refuse-454 }"),
    "lab-fail": ("127.0.13.103", "{ starttls: fail-handshake }"),
    "lab-tls1": ("127.0.13.104", "{ starttls: offer, protocols: [TLSv1] }"),
    "lab-expired": ("127.0.13.105", "{ certificate: expired }"),
    "lab-wrongname": ("127.0.13.106", "{ certificate: wrong-name }"),
    "lab-trap": ("127.0.13.107", "{ auth_trap: true }"),
    "lab-selfsign": ("127.0.13.108", "{ certificate: self-signed }"),
}
PORT = 2525
PASSWORD = "Sup3r-Secret-lab-pw"


def config():
    lst = "".join(f'  - {{ name: {n}, role: lab, address: "{a}:{PORT}", tls: starttls, lab: {lab} }}\n'
                  for n, (a, lab) in LABS.items())
    return f"""
hostname: mx.lab.test
spool: {{spool}}
log: {{ format: json, file: {{log}} }}
listeners:
{lst}tls: {{ certificate: {{dir}}/cert.pem, key: {{dir}}/key.pem, self_signed: true }}
domains:
  - {{ name: lab.test, recipients: ["@lab.test"], downstream: {{ address: "127.0.13.199:2525", tls: none }} }}
"""


def swaks(lab, source, *extra):
    addr = LABS[lab][0]
    cmd = ["swaks", "--server", f"{addr}:{PORT}", "--local-interface", source, "--to", "someone@lab.test",
           "--from", "tester@client.test", "--helo", "client.test", "--timeout", "10", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def s_client(lab, source, *extra):
    addr = LABS[lab][0]
    cmd = ["openssl", "s_client", "-connect", f"{addr}:{PORT}", "-starttls", "smtp", "-name", "client.test",
           *extra]
    # s_client cannot pick its source address; its events are found by listener
    return subprocess.run(cmd, input="QUIT\r\n", capture_output=True, text=True, timeout=60)


def results(mx, source):
    return [e.get("result") for e in mx.events("lab.client") if e.get("client") == source]


def wait_result(mx, source, result, timeout=10):
    try:
        mx.wait_event("lab.client", lambda e: e.get("client") == source and e.get("result") == result,
                      timeout=timeout)
        return True
    except AssertionError:
        return False


def wait_listener(mx, listener, result, timeout=10):
    try:
        mx.wait_event("lab.client", lambda e: e.get("listener") == listener and e.get("result") == result,
                      timeout=timeout)
        return True
    except AssertionError:
        return False


def main():
    t = Check()
    require("swaks")
    require("openssl")
    with Mxgate(config(), name="lab") as mx:
        mx.start(wait_for=[(a, PORT) for a, _ in LABS.values()])
        lab_ca = os.path.join(mx.spool, "lab", "ca.pem")
        t.true("lab CA written to <spool>/lab/ca.pem", os.path.exists(lab_ca))

        # --- strip: swaks --tls gives up; --tls-optional continues in plaintext
        r = swaks("lab-strip", "127.0.13.150", "--tls")
        t.true("strip: swaks --tls fails", r.returncode != 0, r.stdout[-500:])
        t.true("strip: EHLO did not offer STARTTLS", "250-STARTTLS" not in r.stdout and "250 STARTTLS" not in r.stdout,
               r.stdout[-800:])
        t.true("strip + --tls: left_without_mail", wait_result(mx, "127.0.13.150", "left_without_mail"),
               results(mx, "127.0.13.150"))
        r = swaks("lab-strip", "127.0.13.151", "--tls-optional")
        t.true("strip + --tls-optional: plaintext_after_strip",
               wait_result(mx, "127.0.13.151", "plaintext_after_strip"), results(mx, "127.0.13.151"))
        t.true("strip: message refused 554 at end of data", "554 5.7.0" in r.stdout, r.stdout[-800:])
        t.true("strip: sent_message event", wait_result(mx, "127.0.13.151", "sent_message"))

        # --- refuse-454
        r = swaks("lab-454", "127.0.13.152", "--tls")
        t.true("454: swaks --tls fails", r.returncode != 0)
        t.true("454: swaks saw 454", "454 4.7.0" in r.stdout, r.stdout[-800:])
        t.true("454 + --tls: starttls_refused", wait_result(mx, "127.0.13.152", "starttls_refused"))
        t.true("454 + --tls: left_without_mail", wait_result(mx, "127.0.13.152", "left_without_mail"))
        r = swaks("lab-454", "127.0.13.153", "--tls-optional")
        t.true("454 + --tls-optional: plaintext_after_refusal",
               wait_result(mx, "127.0.13.153", "plaintext_after_refusal"), results(mx, "127.0.13.153"))

        # --- fail-handshake, then the same client again in plaintext
        r = swaks("lab-fail", "127.0.13.154", "--tls")
        t.true("fail-handshake: swaks --tls fails", r.returncode != 0, r.stdout[-500:])
        t.true("fail-handshake: handshake_failed", wait_result(mx, "127.0.13.154", "handshake_failed"),
               results(mx, "127.0.13.154"))
        r = swaks("lab-fail", "127.0.13.154")
        t.true("fail-handshake then plaintext: plaintext_retry",
               wait_result(mx, "127.0.13.154", "plaintext_retry"), results(mx, "127.0.13.154"))
        r = s_client("lab-fail", "127.0.13.155")
        t.true("fail-handshake: s_client sees the alert",
               "handshake failure" in (r.stdout + r.stderr).lower() or r.returncode != 0, r.stderr[-500:])

        # --- TLSv1 only
        r = s_client("lab-tls1", "127.0.13.156", "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0")
        out = r.stdout + r.stderr
        t.true("tls1 lab: s_client -tls1 succeeds", "Protocol  : TLSv1\n" in out or "Protocol  : TLSv1\r" in out
               or ", TLSv1," in out, out[-1500:])
        r2 = s_client("lab-tls1", "127.0.13.157", "-tls1_2")
        out2 = r2.stdout + r2.stderr
        t.true("tls1 lab: s_client -tls1_2 fails", r2.returncode != 0 or "Cipher is (NONE)" in out2, out2[-1500:])
        t.true("tls1 lab: accepted_old_protocol event", wait_listener(mx, "lab-tls1", "accepted_old_protocol"))
        t.true("tls1 lab: tls_aborted for the TLS 1.2 client",
               wait_listener(mx, "lab-tls1", "tls_aborted"))

        # --- expired and wrong-name certificates, trusting the lab CA
        r = s_client("lab-expired", "127.0.13.158", "-CAfile", lab_ca, "-verify_hostname", "mx.lab.test")
        out = r.stdout + r.stderr
        t.true("expired: s_client verify result", "certificate has expired" in out, out[-1500:])
        t.true("expired: accepted_bad_certificate (s_client went on)",
               wait_listener(mx, "lab-expired", "accepted_bad_certificate"))
        r = s_client("lab-expired", "127.0.13.158", "-CAfile", lab_ca, "-verify_return_error")
        t.true("expired + -verify_return_error: s_client aborts", "certificate has expired" in r.stdout + r.stderr)
        t.true("expired + -verify_return_error: tls_aborted",
               wait_listener(mx, "lab-expired", "tls_aborted"), mx.events("lab.client")[-3:])
        r = s_client("lab-wrongname", "127.0.13.159", "-CAfile", lab_ca, "-verify_hostname", "mx.lab.test")
        out = r.stdout + r.stderr
        t.true("wrong-name: s_client verify result", "hostname mismatch" in out, out[-1500:])
        t.true("wrong-name: certificate names wrong-name.invalid", "wrong-name.invalid" in out, out[-1500:])
        r = s_client("lab-selfsign", "127.0.13.160", "-CAfile", lab_ca)
        out = r.stdout + r.stderr
        t.true("self-signed: s_client verify result", "self-signed certificate" in out or "self signed" in out,
               out[-1500:])
        r = swaks("lab-expired", "127.0.13.161", "--tls", "--tls-verify", "--tls-ca-path", lab_ca)
        t.true("expired: swaks --tls-verify refuses", r.returncode != 0, r.stdout[-500:])
        t.true("expired: swaks' abort recorded", wait_result(mx, "127.0.13.161", "tls_aborted") or
               wait_result(mx, "127.0.13.161", "left_without_mail"), results(mx, "127.0.13.161"))

        # --- auth trap: cleartext PLAIN and LOGIN; user recorded, password never
        r = swaks("lab-trap", "127.0.13.162", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", PASSWORD)
        t.true("trap: swaks sent AUTH PLAIN in cleartext", "AUTH PLAIN" in r.stdout, r.stdout[-800:])
        t.true("trap: 535 answered", "535 5.7.8" in r.stdout, r.stdout[-800:])
        t.true("trap: cleartext_credentials for PLAIN", wait_result(mx, "127.0.13.162", "cleartext_credentials"))
        ev = [e for e in mx.events("lab.client") if e.get("client") == "127.0.13.162"
              and e.get("result") == "cleartext_credentials"]
        t.true("trap: event names the user", ev and ev[0].get("user") == "alice", ev)
        t.true("trap: reason says credentials in cleartext",
               ev and "sent credentials in cleartext" in ev[0].get("reason", ""), ev)
        t.true("trap: valid is null (never checked)", ev and "valid" in ev[0] and ev[0]["valid"] is None, ev)
        r = swaks("lab-trap", "127.0.13.163", "--auth", "LOGIN", "--auth-user", "bob", "--auth-password", PASSWORD)
        t.true("trap: cleartext_credentials for LOGIN", wait_result(mx, "127.0.13.163", "cleartext_credentials"))
        ev = [e for e in mx.events("lab.client") if e.get("client") == "127.0.13.163"
              and e.get("result") == "cleartext_credentials"]
        t.true("trap: LOGIN user recorded", ev and ev[0].get("user") == "bob", ev)
        r = swaks("lab-trap", "127.0.13.164", "--tls", "--auth", "PLAIN", "--auth-user", "carol",
                  "--auth-password", PASSWORD)
        t.true("trap: credentials_over_tls after STARTTLS", wait_result(mx, "127.0.13.164", "credentials_over_tls"),
               results(mx, "127.0.13.164"))

        # --- mxgate probe against labs: the two halves of issue 5 agree
        def probe(lab, *extra):
            addr = LABS[lab][0]
            r = subprocess.run([MXGATE_BIN, "probe", f"{addr}:{PORT}", "--timeout", "10", "--wait", "1", "--json",
                                *extra], capture_output=True, text=True, timeout=180)
            try:
                return r.returncode, {c["id"]: c["status"] for c in json.loads(r.stdout)["checks"]}
            except (ValueError, KeyError):
                return r.returncode, {"unparsed": r.stdout + r.stderr}
        rc, st = probe("lab-strip")
        t.eq("probe strip lab: starttls.offered FAIL", (rc, st.get("starttls.offered")), (1, "FAIL"))
        rc, st = probe("lab-tls1")
        t.eq("probe TLSv1 lab: TLSv1 accepted FAIL", st.get("tls.version.TLSv1"), "FAIL")
        t.eq("probe TLSv1 lab: TLSv1.2 refused FAIL", st.get("tls.version.TLSv1.2"), "FAIL")
        rc, st = probe("lab-trap")
        t.eq("probe trap lab: AUTH advertised FAIL", st.get("auth.advertised_plaintext"), "FAIL")
        t.eq("probe trap lab: AUTH accepted FAIL", st.get("auth.accepted_plaintext"), "FAIL")
        t.true("trap: the probe's cancelled AUTH recorded as auth_cancelled",
               wait_listener(mx, "lab-trap", "auth_cancelled"))
        rc, st = probe("lab-expired", "--name", "mx.lab.test")
        t.eq("probe expired lab: certificate.expiry FAIL", st.get("certificate.expiry"), "FAIL")

        # --- BDAT is refused and the connection closed (never spooled)
        c = RawSmtp(LABS["lab-strip"][0], PORT, source="127.0.13.170")
        c.reply()
        code, text = c.cmd("EHLO client.test")
        t.true("lab EHLO: no CHUNKING", "CHUNKING" not in text, text)
        c.cmd("MAIL FROM:<a@client.test>")
        c.cmd("RCPT TO:<b@lab.test>")
        c.send("BDAT 5 LAST\r\nhello")
        code, text = c.reply()
        t.eq("lab BDAT: 502", code, 502)
        t.true("lab BDAT: connection closed", c.closed())
        c.close()

        # --- never relays: nothing in the spool's queue
        queued = glob.glob(os.path.join(mx.spool, "queue", "*"))
        t.eq("nothing spooled", queued, [])
        t.true("session.open says role lab", any(e.get("role") == "lab" for e in mx.events("session.open")))

    # The password appears nowhere: log, stderr, event journal, spool.
    secrets = [PASSWORD, base64.b64encode(f"\0alice\0{PASSWORD}".encode()).decode(),
               base64.b64encode(PASSWORD.encode()).decode()]
    leaks = []
    for root, _, files in os.walk(mx.dir):
        for fn in files:
            path = os.path.join(root, fn)
            try:
                data = open(path, "rb").read()
            except OSError:
                continue
            for s in secrets:
                if s.encode() in data:
                    leaks.append(path)
    t.eq("password in no file of the lab's directory", leaks, [])
    journal = os.path.join(mx.spool, "state", "events.jsonl")
    t.true("lab.client events are journalled for reports",
           os.path.exists(journal) and b"lab.client" in open(journal, "rb").read())
    t.done()


if __name__ == "__main__":
    main()
