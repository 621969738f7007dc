"""Submission with SASL authentication (issue 6, SPEC §5).

A real sasldb made with saslpasswd2; real clients: swaks (--tls,
--tls-on-connect, --auth), Python smtplib, and exact-byte dialogs.

- 587 STARTTLS and 465 implicit TLS: PLAIN, LOGIN, SCRAM-SHA-256 succeed;
  authenticated mail for an owner domain reaches the home box (Received:
  says ESMTPSA), mail for anywhere else is queued for outbound delivery
- before TLS: no AUTH in EHLO; AUTH without initial response and MAIL get
  530 5.7.0; after TLS MAIL without AUTH gets 530 5.7.0 Authentication required
- cleartext PLAIN with the right and a wrong password: 538 after the same
  delay, auth.cleartext_exposure valid true/false, the right one locks the
  account until `mxgate user passwd`; AUTH LOGIN in cleartext: 538 at once,
  valid null
- lockout per user and per client address, and its expiry
- auth.networks and auth.deny_networks from distinct 127.0.6.x addresses
- auth.new_network once per network (an IPv4 /24 and the IPv6 ::1 /64)
- sender binding on the envelope and the From: header
- aborted AUTH ("*"), malformed base64, then a good AUTH
- mxgate user add/passwd/del/list
- contrib/fail2ban's filter matches the auth.failure lines (fail2ban-regex)
- no password, and no base64 form of one, in any log, event journal or spool file
Addresses: 127.0.6.x (and ::1 for the IPv6 network).
"""

import base64
import hashlib
import hmac
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.harness import MXGATE_BIN, CaptureSink, Check, Mxgate, RawSmtp, require, skip  # noqa: E402

HOST = "127.0.6.1"
MX = (HOST, 2525)
SUB = (HOST, 2587)
SUBS = (HOST, 2465)
SUB6 = ("::1", 2588)
HOME = ("127.0.6.2", 2526)
REALM = "mx.auth.test"

CONFIG = """
hostname: mx.auth.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.6.1:2525", tls: starttls }
  - { name: submission, role: submission, address: "127.0.6.1:2587", tls: starttls }
  - { name: submissions, role: submission, address: "127.0.6.1:2465", tls: implicit }
  - { name: submission6, role: submission, address: "[::1]:2588", tls: starttls }
tls: { self_signed: true, certificate: {dir}/cert.pem, key: {dir}/key.pem }
dns: { resolver: "127.0.6.53:5353" }
domains:
  - name: example.test
    recipients: ["@example.test"]
    downstream: { address: "127.0.6.2:2526", tls: none }
auth:
  sasl: { service: smtp, mechanisms: [PLAIN, LOGIN, SCRAM-SHA-256, NO-SUCH-MECH], sasldb: {dir}/sasldb2 }
  senders:
    alice: ["alice@example.test"]
    bob: ["@example.test"]
    carol: ["carol@example.test"]
    dave: ["dave@example.test"]
    erin: ["erin@example.test"]
    frank: ["frank@example.test"]
  networks:
    carol: ["127.0.6.32/28"]
  deny_networks: ["127.0.6.66/32"]
  lockout: { failures: 3, window: 1m, duration: 3s }
  on_cleartext_credentials: lock
queue: { retry: [1m], max_lifetime: 1h, delay_warning: 1h }
"""

PASSWORDS = {
    "alice": "Alice-pw-8c1e",
    "bob": "Bob-pw-55af",
    "carol": "Carol-pw-1b9d",
    "dave": "Dave-pw-7e02",
    "erin": "Erin-pw-c4c4",
    "frank": "Frank-pw-0a17",
    # RFC 4954 §4: AUTH lines may be 12288 octets; this one's PLAIN line is ~830
    "lena": "Lena-long-" + "x7Q" * 200,
}
NEW_PASSWORDS = {"erin": "Erin-new-9d3f"}
WRONG = "Wrong-pw-3f3f"


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def plain_ir(user, pw):
    return b64(f"\0{user}\0{pw}")


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Client(RawSmtp):
    """RawSmtp bound to a source address, with TLS helpers."""

    def __init__(self, addr, source=None, implicit=False):
        fam = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect(addr)
        self.buf = b""
        if implicit:
            self.sock = tls_ctx().wrap_socket(self.sock)
        self.greeting = self.reply()

    def secure(self):
        code, _ = self.cmd("EHLO client.test")
        assert code == 250
        code, _ = self.cmd("STARTTLS")
        assert code == 220, code
        self.starttls()
        return self.cmd("EHLO client.test")


def login_plain(addr, user, pw, source=None, implicit=False):
    c = Client(addr, source, implicit)
    if implicit:
        c.cmd("EHLO client.test")
    else:
        c.secure()
    code, text = c.cmd("AUTH PLAIN " + plain_ir(user, pw))
    return c, code, text


def scram_login(c, user, pw):
    """SCRAM-SHA-256 (RFC 5802, RFC 7677) client; returns the final reply."""
    cnonce = b64(os.urandom(18))
    bare = f"n={user},r={cnonce}"
    code, text = c.cmd("AUTH SCRAM-SHA-256 " + b64("n,," + bare))
    if code != 334:
        return code, text
    server_first = base64.b64decode(text[4:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salt, iters, nonce = base64.b64decode(attrs["s"]), int(attrs["i"]), attrs["r"]
    salted = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, iters)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    without_proof = f"c={b64('n,,')},r={nonce}"
    auth_msg = f"{bare},{server_first},{without_proof}".encode()
    sig = hmac.new(stored, auth_msg, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    code, text = c.cmd(b64(f"{without_proof},p={b64(proof)}"))
    if code != 334:
        return code, text
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    want = "v=" + b64(hmac.new(server_key, auth_msg, hashlib.sha256).digest())
    if base64.b64decode(text[4:]).decode() != want:
        return 0, "server signature mismatch"
    return c.cmd("")


def saslpasswd(db, user, pw):
    subprocess.run(["saslpasswd2", "-p", "-c", "-f", db, "-u", REALM, user], input=pw + "\n",
                   text=True, check=True, capture_output=True)


def swaks(*args):
    return subprocess.run(["swaks", "--silent", "1", "--timeout", "15", *args], capture_output=True, text=True,
                          timeout=60)


MESSAGE = "From: {frm}\r\nTo: {to}\r\nSubject: {subj}\r\n\r\nbody\r\n"


def main():
    require("swaks")
    require("saslpasswd2")
    require("sasldblistusers2")
    if os.path.exists("/usr/lib/x86_64-linux-gnu/sasl2") and not any(
            f.startswith("libscram") for f in os.listdir("/usr/lib/x86_64-linux-gnu/sasl2")):
        skip("libsasl2-modules (SCRAM) is not installed")
    t = Check()
    home = CaptureSink(*HOME).start()
    mx = Mxgate(CONFIG, name="auth")
    db = os.path.join(mx.dir, "sasldb2")
    for u, pw in PASSWORDS.items():
        saslpasswd(db, u, pw)
    try:
        mx.start(wait_for=[MX, SUB, SUBS])
        wait6 = time.time() + 5
        while time.time() < wait6:
            try:
                socket.create_connection(SUB6, timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        run(t, mx, home, db)
    finally:
        mx.stop()
        home.stop()
        secrets_absent(t, mx)
        fail2ban_filter(t, mx)
    t.done()


def fail2ban_filter(t, mx):
    """contrib/fail2ban's filter finds one hit per auth.failure, by client."""
    import shutil
    if not shutil.which("fail2ban-regex"):
        print("fail2ban-regex not installed: filter check skipped")
        return
    src = os.environ.get("MXGATE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    flt = os.path.abspath(os.path.join(src, "contrib", "fail2ban", "filter.d", "mxgate-auth.conf"))
    r = subprocess.run(["fail2ban-regex", "-v", mx.log_path, flt], capture_output=True, text=True, timeout=120)
    failures = mx.events("auth.failure")
    want = f"{len(failures)} matched"
    t.true("fail2ban filter matches every auth.failure", r.returncode == 0 and want in r.stdout,
           f"want '{want}': " + r.stdout[-600:] + r.stderr[-300:])
    hosts = {e["client"] for e in failures}
    t.true("fail2ban filter names the clients", all(h in r.stdout for h in hosts), str(hosts))


def run(t, mx, home, db):
    # --- before TLS (SPEC §5 first bullet) -------------------------------
    c = Client(SUB, "127.0.6.10")
    code, text = c.cmd("EHLO client.test")
    t.eq("EHLO before TLS", code, 250)
    t.true("no AUTH before TLS", "AUTH" not in text, text)
    t.true("STARTTLS offered on 587", "STARTTLS" in text, text)
    t.eq("MAIL before TLS", c.cmd("MAIL FROM:<alice@example.test>"), (530, "530 5.7.0 Must issue a STARTTLS command first"))
    t.eq("AUTH PLAIN without IR before TLS", c.cmd("AUTH PLAIN"),
         (530, "530 5.7.0 Must issue a STARTTLS command first"))
    t.eq("AUTH SCRAM without IR before TLS", c.cmd("AUTH SCRAM-SHA-256")[0], 530)
    c.cmd("STARTTLS")
    c.starttls()
    code, text = c.cmd("EHLO client.test")
    t.true("AUTH after TLS", "250-AUTH PLAIN LOGIN SCRAM-SHA-256" in text or "250 AUTH PLAIN LOGIN SCRAM-SHA-256" in text, text)
    t.eq("MAIL after TLS without AUTH", c.cmd("MAIL FROM:<alice@example.test>"),
         (530, "530 5.7.0 Authentication required"))
    t.eq("RCPT without MAIL", c.cmd("RCPT TO:<x@example.test>")[0], 503)
    t.eq("unsupported mechanism", c.cmd("AUTH CRAM-MD5")[0], 504)
    c.close()

    # mx listener: no AUTH, even after TLS
    c = Client(MX, "127.0.6.10")
    c.secure()
    code, text = c.cmd("EHLO client.test")
    t.true("no AUTH on mx", "AUTH" not in text, text)
    t.eq("AUTH on mx", c.cmd("AUTH PLAIN " + plain_ir("alice", PASSWORDS["alice"]))[0], 503)
    c.close()

    t.true("a configured mechanism without plugin is reported",
           any(e.get("mechanism") == "NO-SUCH-MECH" for e in mx.events("auth.mechanism_unavailable")))
    c = Client(SUB, "127.0.6.10")
    c.secure()
    t.eq("unavailable mechanism refused", c.cmd("AUTH NO-SUCH-MECH")[0], 504)
    c.close()

    # --- success per mechanism on 587 and 465 ----------------------------
    for name, addr, implicit in (("587", SUB, False), ("465", SUBS, True)):
        c, code, text = login_plain(addr, "alice", PASSWORDS["alice"], "127.0.6.11", implicit)
        t.eq(f"PLAIN on {name}", (code, text), (235, "235 2.7.0 Authentication successful"))
        c.close()
        c = Client(addr, "127.0.6.11", implicit)
        c.cmd("EHLO client.test") if implicit else c.secure()
        t.eq(f"LOGIN step 1 on {name}", c.cmd("AUTH LOGIN"), (334, "334 " + b64("Username:")))
        t.eq(f"LOGIN step 2 on {name}", c.cmd(b64("bob")), (334, "334 " + b64("Password:")))
        t.eq(f"LOGIN on {name}", c.cmd(b64(PASSWORDS["bob"]))[0], 235)
        c.close()
        c = Client(addr, "127.0.6.11", implicit)
        c.cmd("EHLO client.test") if implicit else c.secure()
        t.eq(f"SCRAM-SHA-256 on {name}", scram_login(c, "frank", PASSWORDS["frank"])[0], 235)
        c.close()
        c = Client(addr, "127.0.6.11", implicit)
        c.cmd("EHLO client.test") if implicit else c.secure()
        t.eq(f"SCRAM-SHA-256 wrong password on {name}", scram_login(c, "frank", WRONG)[0], 535)
        c.close()

    # swaks: STARTTLS and implicit TLS, PLAIN and LOGIN, owner-domain mail goes downstream
    r = swaks("--server", f"{HOST}:{SUB[1]}", "--local-interface", "127.0.6.12", "--tls", "--auth", "PLAIN",
              "--auth-user", "alice", "--auth-password", PASSWORDS["alice"], "--from", "alice@example.test",
              "--to", "someone@example.test", "--header", "Subject: swaks 587")
    t.eq("swaks --tls --auth PLAIN", r.returncode, 0)
    r = swaks("--server", f"{HOST}:{SUBS[1]}", "--local-interface", "127.0.6.12", "--tls-on-connect", "--auth",
              "LOGIN", "--auth-user", "bob", "--auth-password", PASSWORDS["bob"], "--from", "anyone@example.test",
              "--to", "someone@example.test", "--header", "Subject: swaks 465")
    t.eq("swaks --tls-on-connect --auth LOGIN", r.returncode, 0)
    r = swaks("--server", f"{HOST}:{SUB[1]}", "--local-interface", "127.0.6.12", "--tls", "--auth", "PLAIN",
              "--auth-user", "alice", "--auth-password", WRONG, "--from", "alice@example.test",
              "--to", "someone@example.test")
    t.true("swaks with a wrong password fails", r.returncode != 0 and "535 5.7.8" in r.stdout + r.stderr,
           r.stdout[-300:])
    got = home.wait(2)
    subjects = [m[2] for m in got]
    t.true("swaks mail delivered downstream", any(b"Subject: swaks 587" in d for d in subjects) and
           any(b"Subject: swaks 465" in d for d in subjects))
    t.true("Received says ESMTPSA", all(b"with ESMTPSA" in d for d in subjects), subjects[0][:400])

    # smtplib: STARTTLS + login, mail to another domain goes to the outbound queue
    s = smtplib.SMTP(*SUB, source_address=("127.0.6.13", 0), timeout=15)
    s.starttls(context=tls_ctx())
    s.ehlo()
    s.login("alice", PASSWORDS["alice"])
    refused = s.sendmail("alice@example.test", ["friend@elsewhere.test"],
                         MESSAGE.format(frm="alice@example.test", to="friend@elsewhere.test", subj="outbound"))
    t.eq("smtplib: outbound recipient accepted", refused, {})
    code, _ = s.docmd("MAIL FROM:<alice@example.test>")
    t.eq("smtplib: open-relay form refused after AUTH", s.docmd("RCPT TO:<x%y@elsewhere.test>")[0], 554)
    t.eq("smtplib: any other domain accepted after AUTH", s.docmd("RCPT TO:<x@sub.example.test>")[0], 250)
    s.quit()
    ev = mx.wait_event("queue.accepted", lambda e: e.get("recipients") == ["friend@elsewhere.test"])
    t.true("outbound message queued", bool(ev))
    s = smtplib.SMTP_SSL(*SUBS, source_address=("127.0.6.13", 0), timeout=15, context=tls_ctx())
    s.login("bob", PASSWORDS["bob"])
    t.eq("smtplib SMTP_SSL (465) send", s.sendmail("bob@example.test", ["x@example.test"],
                                                  MESSAGE.format(frm="bob@example.test", to="x@example.test",
                                                                 subj="smtplib 465")), {})
    s.quit()

    # auth.success events carry user, client, network, never a password
    succ = mx.events("auth.success")
    t.true("auth.success events", any(e.get("user") == "alice" and e.get("client") == "127.0.6.11" and
                                      e.get("network") == "127.0.6.0/24" for e in succ), succ[:2])

    # --- sender binding (envelope) ---------------------------------------
    c, code, _ = login_plain(SUB, "alice", PASSWORDS["alice"], "127.0.6.14")
    t.eq("alice MAIL as bob", c.cmd("MAIL FROM:<bob@example.test>"), (553, "553 5.7.1 Sender address rejected: not owned by user"))
    t.eq("alice MAIL as another domain", c.cmd("MAIL FROM:<alice@elsewhere.test>")[0], 553)
    t.eq("alice MAIL as herself (case-insensitive)", c.cmd("MAIL FROM:<Alice@Example.TEST>")[0], 250)
    c.close()
    c, code, _ = login_plain(SUB, "bob", PASSWORDS["bob"], "127.0.6.14")
    t.eq("bob @domain entry", c.cmd("MAIL FROM:<whoever@example.test>")[0], 250)
    c.close()
    t.true("sender mismatch event", bool(mx.events("policy.reject") and any(
        e.get("user") == "alice" and e.get("sender") == "bob@example.test" for e in mx.events("policy.reject"))))

    # --- sender binding (From: header) ------------------------------------
    def data_reply(frm_lines, user="alice", mail_from="alice@example.test"):
        c, code, _ = login_plain(SUB, user, PASSWORDS[user], "127.0.6.14")
        c.cmd(f"MAIL FROM:<{mail_from}>")
        c.cmd("RCPT TO:<someone@example.test>")
        c.cmd("DATA")
        c.send("".join(h + "\r\n" for h in frm_lines) + "Subject: header binding\r\n\r\nbody\r\n.\r\n")
        r = c.reply()
        c.close()
        return r
    t.eq("From: allowed", data_reply(['From: "Alice A." <alice@example.test>'])[0], 250)
    t.eq("From: allowed, folded, with comment", data_reply(["From: Alice (home)\r\n <ALICE@example.test>"])[0], 250)
    t.eq("From: another user", data_reply(["From: Bob <bob@example.test>"]),
         (553, "553 5.7.1 Sender address rejected: From: header not owned by user"))
    t.eq("From: two addresses, one foreign", data_reply(["From: alice@example.test, bob@example.test"])[0], 553)
    t.eq("two From: headers, one foreign", data_reply(["From: alice@example.test", "From: mallory@evil.test"])[0], 553)
    t.eq("no From: header", data_reply([])[0], 553)
    t.eq("display name spoof", data_reply(['From: "alice@example.test" <mallory@evil.test>'])[0], 553)
    t.eq("bob @domain From:", data_reply(["From: Anyone <anyone@example.test>"], "bob", "bob@example.test")[0], 250)
    t.true("header mismatch event", any(e.get("reason", "").startswith("From: header") for e in mx.events("policy.reject")))

    # --- aborted AUTH, malformed base64, then AUTH -----------------------
    c = Client(SUB, "127.0.6.15")
    c.secure()
    t.eq("LOGIN start", c.cmd("AUTH LOGIN")[0], 334)
    t.eq("LOGIN user", c.cmd(b64("alice"))[0], 334)
    t.eq("cancel with *", c.cmd("*"), (501, "501 5.7.0 Authentication cancelled"))
    t.eq("PLAIN then cancel", c.cmd("AUTH PLAIN")[0], 334)
    t.eq("cancel PLAIN", c.cmd("*")[0], 501)
    t.eq("malformed base64 IR", c.cmd("AUTH PLAIN not*base64!"), (501, "501 5.5.2 Cannot decode response (invalid base64)"))
    t.eq("LOGIN start again", c.cmd("AUTH LOGIN")[0], 334)
    t.eq("malformed base64 response", c.cmd("%%%")[0], 501)
    t.eq("AUTH after aborts", c.cmd("AUTH PLAIN " + plain_ir("alice", PASSWORDS["alice"]))[0], 235)
    t.eq("AUTH twice", c.cmd("AUTH PLAIN " + plain_ir("alice", PASSWORDS["alice"]))[0], 503)
    c.close()
    t.true("no failures counted for aborts", not any(e.get("client") == "127.0.6.15" for e in mx.events("auth.failure")))

    # --- long AUTH lines (RFC 4954 §4: up to 12288 octets) ----------------
    c, code, _ = login_plain(SUB, "lena", PASSWORDS["lena"], "127.0.6.16")
    t.eq("AUTH PLAIN line over 512 octets accepted", code, 235)
    t.eq("other commands keep the 512-octet limit", c.cmd("NOOP " + "n" * 600)[:1], (500,))
    c.close()

    # --- cleartext credentials (SPEC §5 third bullet) --------------------
    c = Client(SUB, "127.0.6.20")
    c.cmd("EHLO client.test")
    t0 = time.time()
    right = c.cmd("AUTH PLAIN " + plain_ir("erin", PASSWORDS["erin"]))
    d_right = time.time() - t0
    t0 = time.time()
    wrong = c.cmd("AUTH PLAIN " + plain_ir("carol", WRONG))
    d_wrong = time.time() - t0
    t0 = time.time()
    login = c.cmd("AUTH LOGIN")
    d_login = time.time() - t0
    login_ir = c.cmd("AUTH LOGIN " + b64("carol"))
    c.close()
    t.eq("cleartext right password", right, (538, "538 5.7.11 Encryption required"))
    t.eq("cleartext wrong password", wrong, (538, "538 5.7.11 Encryption required"))
    t.true("same delay right/wrong", 0.9 <= d_right < 1.6 and 0.9 <= d_wrong < 1.6 and abs(d_right - d_wrong) < 0.3,
           f"{d_right:.3f}s vs {d_wrong:.3f}s")
    t.eq("cleartext AUTH LOGIN", login, (538, "538 5.7.11 Encryption required"))
    t.true("AUTH LOGIN answered at once", d_login < 0.5, f"{d_login:.3f}s")
    t.eq("cleartext AUTH LOGIN with user", login_ir[0], 538)
    ex = mx.wait_event("auth.cleartext_exposure", count=4)
    by = {(e.get("user"), e.get("mechanism")): e for e in ex}
    t.true("exposure valid:true", by.get(("erin", "PLAIN"), {}).get("valid") is True, ex)
    t.true("exposure valid:false", by.get(("carol", "PLAIN"), {}).get("valid") is False, ex)
    t.true("exposure LOGIN valid:null", any(e.get("mechanism") == "LOGIN" and "valid" in e and e["valid"] is None
                                          for e in ex), ex)
    t.true("exposure LOGIN names the user", by.get(("carol", "LOGIN"), {}).get("valid", "x") is None, ex)
    t.true("locked event for erin", any(e.get("user") == "erin" for e in mx.events("auth.locked")))
    # erin is locked even with the right password over TLS; carol is not
    c, code, text = login_plain(SUB, "erin", PASSWORDS["erin"], "127.0.6.21")
    t.eq("exposed account locked", (code, text[:9]), (454, "454 4.7.0"))
    c.close()
    c, code, _ = login_plain(SUB, "carol", PASSWORDS["carol"], "127.0.6.34")
    t.eq("wrong cleartext password locks nothing", code, 235)
    c.close()
    # HELO instead of EHLO (or no greeting at all) does not hide a cleartext password
    c = Client(SUB, "127.0.6.22")
    t.eq("HELO", c.cmd("HELO old.client.test")[0], 250)
    t.eq("cleartext PLAIN after HELO", c.cmd("AUTH PLAIN " + plain_ir("nohelo", WRONG)),
         (538, "538 5.7.11 Encryption required"))
    c.close()
    ex = mx.wait_event("auth.cleartext_exposure", lambda e: e.get("user") == "nohelo")
    t.true("exposure after HELO, valid:false", ex[0].get("valid") is False, ex)
    # passwd sets a new password and lifts the lock
    r = mx.run("user", "passwd", "erin", "--stdin", input=NEW_PASSWORDS["erin"] + "\n")
    t.eq("mxgate user passwd", r.returncode, 0)
    t.true("passwd says the lock was cleared", "cleared" in r.stdout, r.stdout + r.stderr)
    c, code, _ = login_plain(SUB, "erin", PASSWORDS["erin"], "127.0.6.21")
    t.eq("old password refused after passwd", code, 535)
    c.close()
    c, code, _ = login_plain(SUB, "erin", NEW_PASSWORDS["erin"], "127.0.6.21")
    t.eq("new password works after passwd", code, 235)
    c.close()

    # --- lockout per user and per address, and expiry ---------------------
    for i in range(3):
        c, code, _ = login_plain(SUB, "dave", WRONG, "127.0.6.40")
        t.eq(f"dave wrong #{i + 1}", code, 535)
        c.close()
    c, code, text = login_plain(SUB, "dave", PASSWORDS["dave"], "127.0.6.41")
    t.eq("dave locked (right password, other address)", (code, text[:9]), (454, "454 4.7.0"))
    c.close()
    locked = [e for e in mx.events("auth.locked") if e.get("user") == "dave"]
    t.true("auth.locked for dave", bool(locked), mx.events("auth.locked"))
    # per address: three unknown users from .42 lock the address for everyone
    for i in range(3):
        c, code, _ = login_plain(SUB, f"nobody{i}", WRONG, "127.0.6.42")
        c.close()
    c, code, _ = login_plain(SUB, "alice", PASSWORDS["alice"], "127.0.6.42")
    t.eq("address locked", code, 454)
    c.close()
    c, code, _ = login_plain(SUB, "alice", PASSWORDS["alice"], "127.0.6.43")
    t.eq("other address not locked", code, 235)
    c.close()
    fails = [e for e in mx.events("auth.failure") if e.get("client") == "127.0.6.42"]
    t.eq("auth.failure per attempt", len(fails), 3)
    t.true("auth.failure fields", all(e.get("user", "").startswith("nobody") and e.get("network") == "127.0.6.0/24"
                                      for e in fails), fails)
    time.sleep(3.3)
    c, code, _ = login_plain(SUB, "dave", PASSWORDS["dave"], "127.0.6.41")
    t.eq("dave unlocked after duration", code, 235)
    c.close()
    c, code, _ = login_plain(SUB, "alice", PASSWORDS["alice"], "127.0.6.42")
    t.eq("address unlocked after duration", code, 235)
    c.close()

    # --- networks and deny_networks --------------------------------------
    c, code, _ = login_plain(SUB, "carol", PASSWORDS["carol"], "127.0.6.33")
    t.eq("carol inside auth.networks", code, 235)
    c.close()
    c, code, text = login_plain(SUB, "carol", PASSWORDS["carol"], "127.0.6.50")
    t.eq("carol outside auth.networks", (code, text), (535, "535 5.7.8 Authentication credentials invalid"))
    c.close()
    c, code, text = login_plain(SUB, "alice", PASSWORDS["alice"], "127.0.6.66")
    t.eq("deny_networks", (code, text), (535, "535 5.7.8 Authentication credentials invalid"))
    c.close()
    nd = mx.wait_event("auth.network_denied", count=2)
    t.true("network_denied events", {(e.get("user"), e.get("client")) for e in nd} >=
           {("carol", "127.0.6.50"), ("alice", "127.0.6.66")}, nd)

    # --- new_network: once per network -----------------------------------
    before = [e for e in mx.events("auth.new_network") if e.get("user") == "bob"]
    t.eq("bob: one new_network for 127.0.6.0/24 so far", [e.get("network") for e in before], ["127.0.6.0/24"])
    c, code, _ = login_plain(SUB, "bob", PASSWORDS["bob"], "127.0.6.44")
    c.close()
    c, code, _ = login_plain(SUB6, "bob", PASSWORDS["bob"])
    t.eq("bob over IPv6", code, 235)
    c.close()
    c, code, _ = login_plain(SUB6, "bob", PASSWORDS["bob"])
    c.close()
    after = [e.get("network") for e in mx.events("auth.new_network") if e.get("user") == "bob"]
    t.eq("bob: new_network once per network", after, ["127.0.6.0/24", "::/64"])

    # --- mxgate user add/list/del -----------------------------------------
    r = mx.run("user", "add", "gina", "--stdin", input="Gina-pw-4411\n")
    t.eq("user add", r.returncode, 0)
    r = mx.run("user", "add", "gina", "--stdin", input="Gina-pw-4411\n")
    t.eq("user add existing", r.returncode, 1)
    fresh = os.path.join(mx.dir, "fresh.yaml")
    with open(mx.config_path) as f, open(fresh, "w") as g:
        g.write(f.read().replace("sasldb: " + db, "sasldb: " + db + "-new"))
    r = subprocess.run([MXGATE_BIN, "user", "add", "ivy", "--stdin", "-c", fresh],
                       input="Ivy-pw-7a7a\n", capture_output=True, text=True, timeout=30)
    t.true("user add creates a new sasldb 0600", r.returncode == 0 and os.path.exists(db + "-new") and
           (os.stat(db + "-new").st_mode & 0o077) == 0, r.stderr)
    # a relative sasldb path (as in the development config) is relative to the working directory
    rel = os.path.join(mx.dir, "rel.yaml")
    with open(mx.config_path) as f, open(rel, "w") as g:
        g.write(f.read().replace("sasldb: " + db, "sasldb: ./rel-sasldb2"))
    r = subprocess.run([MXGATE_BIN, "user", "add", "ivy", "--stdin", "-c", rel], cwd=mx.dir,
                       input="Ivy-pw-7a7a\n", capture_output=True, text=True, timeout=30)
    t.true("user add with a relative sasldb path", r.returncode == 0 and
           os.path.exists(os.path.join(mx.dir, "rel-sasldb2")), r.stderr)
    r = mx.run("user", "list")
    t.true("user list", r.returncode == 0 and f"gina@{REALM}" in r.stdout.split() and f"alice@{REALM}" in r.stdout.split(),
           r.stdout + r.stderr)
    c = Client(SUB, "127.0.6.45")
    c.secure()
    t.eq("SCRAM login for a user made by mxgate user add", scram_login(c, "gina", "Gina-pw-4411")[0], 235)
    c.close()
    r = mx.run("user", "del", "gina")
    t.eq("user del", r.returncode, 0)
    c, code, _ = login_plain(SUB, "gina", "Gina-pw-4411", "127.0.6.45")
    t.eq("deleted user refused", code, 535)
    c.close()
    r = mx.run("user", "add", "hank", "Hank-pw")
    t.eq("password as an argument is refused", r.returncode, 2)
    r = subprocess.run(["sasldblistusers2", "-f", db], capture_output=True, text=True)
    t.true("gina gone from the sasldb", "gina" not in r.stdout, r.stdout)


def secrets_absent(t, mx):
    """No password or base64 form of one in any file mxgate wrote."""
    needles = set()
    for pw in list(PASSWORDS.values()) + list(NEW_PASSWORDS.values()) + [WRONG, "Gina-pw-4411", "Ivy-pw-7a7a"]:
        needles.add(pw)
        needles.add(b64(pw))
        needles.add(b64(pw)[:-2] if b64(pw).endswith("==") else b64(pw))
    for u, pw in PASSWORDS.items():
        needles.add(plain_ir(u, pw))
        needles.add(plain_ir(u, WRONG))
    files = [mx.log_path, mx.stderr_path]
    for root, _, names in os.walk(mx.spool):
        files += [os.path.join(root, n) for n in names]
    checked = 0
    for path in files:
        try:
            data = open(path, "rb").read().decode("latin-1")
        except OSError:
            continue
        checked += 1
        for n in needles:
            if n in data:
                t.true(f"secret found in {path}", False, n[:4] + "...")
    t.true("logs and spool files checked for secrets", checked >= 3, str(checked))


if __name__ == "__main__":
    main()
