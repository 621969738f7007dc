"""Fake internet peers for outbound delivery tests (issue 3):

- TestCA: a private CA (Python `cryptography`) that issues leaf
  certificates for given DNS names; ca_file is what tls.ca_file points to.
- MxHost: a receiving MX on its own loopback address, port 25, with a
  behaviour: "plain" (no STARTTLS), "tls" (STARTTLS with a certificate),
  "fail" (offers STARTTLS, answers 220, then sends garbage instead of a
  handshake). Records every message with whether it arrived over TLS and
  its MAIL command line (mail_cmd). after_tls: extra EHLO keywords offered
  only after STARTTLS (e.g. ["REQUIRETLS"], RFC 8689 — no Debian MTA
  implements it, so this fixture plays the REQUIRETLS-capable MX).
- PolicyServer: an HTTPS server (ssl + http.server) on ADDRESS:443 that
  serves /.well-known/mta-sts.txt per Host header: (status, content-type,
  body, extra headers), and records every POST (TLS-RPT https: rua,
  RFC 8460 §5.4) in `posts`, answering post_status.
"""

import datetime
import os
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class TestCA:
    def __init__(self, directory, name="mxgate outbound test CA"):
        self.dir = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                  content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.ca_file = os.path.join(directory, "test-ca.pem")
        with open(self.ca_file, "wb") as f:
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, label, names):
        """Writes <label>.crt (leaf + CA) and <label>.key; returns the paths."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self.cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=10))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256()))
        crt = os.path.join(self.dir, label + ".crt")
        keyf = os.path.join(self.dir, label + ".key")
        with open(crt, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))
        with open(keyf, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        return crt, keyf


class MxHost:
    def __init__(self, address, behaviour, cert=None, port=25, name="mx.test", after_tls=()):
        self.address, self.port, self.behaviour, self.name = address, port, behaviour, name
        self.after_tls = list(after_tls)
        self.messages = []      # dicts: mail_from, rcpts, data, tls
        self.connections = 0
        self.ctx = None
        if behaviour == "tls":
            self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ctx.load_cert_chain(*cert)
        self.sock = None
        self.lock = threading.Lock()

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.address, self.port))
        self.sock.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def received(self):
        with self.lock:
            return list(self.messages)

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        conn.settimeout(30)
        f = conn.makefile("rb")
        tls = False
        state = {"from": None, "rcpts": []}

        def send(line):
            conn.sendall(line.encode() + b"\r\n")
        try:
            send("220 %s ESMTP test" % self.name)
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.strip().decode("latin-1")
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    ext = ["PIPELINING", "8BITMIME"]
                    if self.behaviour in ("tls", "fail") and not tls:
                        ext.append("STARTTLS")
                    if tls:
                        ext += self.after_tls
                    lines = [self.name] + ext
                    for i, l in enumerate(lines):
                        send(("250 " if i == len(lines) - 1 else "250-") + l)
                elif verb == "STARTTLS" and self.behaviour in ("tls", "fail") and not tls:
                    send("220 2.0.0 go ahead")
                    if self.behaviour == "fail":
                        conn.sendall(b"this is not a TLS handshake\r\n" * 4)
                        return
                    conn = self.ctx.wrap_socket(conn, server_side=True)
                    f = conn.makefile("rb")
                    tls = True
                elif verb == "MAIL":
                    state = {"from": cmd[10:].split(">")[0].strip("<> "), "rcpts": [], "cmd": cmd}
                    send("250 2.1.0 ok")
                elif verb == "RCPT":
                    state["rcpts"].append(cmd[8:].strip("<> "))
                    send("250 2.1.5 ok")
                elif verb == "DATA":
                    send("354 go")
                    data = b""
                    while True:
                        l = f.readline()
                        if not l or l == b".\r\n":
                            break
                        data += l
                    with self.lock:
                        self.messages.append({"mail_from": state["from"], "rcpts": state["rcpts"],
                                              "data": data, "tls": tls, "mail_cmd": state.get("cmd", "")})
                    send("250 2.0.0 queued")
                elif verb == "RSET":
                    send("250 2.0.0 ok")
                elif verb == "NOOP":
                    send("250 2.0.0 ok")
                elif verb == "QUIT":
                    send("221 2.0.0 bye")
                    return
                else:
                    send("502 5.5.2 what")
        except (OSError, ssl.SSLError):
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass


class PolicyServer:
    """HTTPS on address:443. routes: {host: (status, ctype, body, headers)}."""

    def __init__(self, address, cert, routes, port=443, post_status=201):
        self.address, self.port, self.routes = address, port, routes
        self.requests = []
        self.posts = []         # dicts: host, path, content_type, body (bytes)
        self.post_status = post_status
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(*cert)
        self.httpd = None

    def start(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                outer.requests.append((host, self.path))
                route = outer.routes.get(host)
                if route is None or self.path != "/.well-known/mta-sts.txt":
                    route = (404, "text/plain", "not found", {})
                status, ctype, body, headers = route
                body = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.posts.append({"host": (self.headers.get("Host") or "").split(":")[0].lower(),
                                    "path": self.path, "content_type": self.headers.get("Content-Type"),
                                    "body": body})
                self.send_response(outer.post_status)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()

        self.httpd = ThreadingHTTPServer((self.address, self.port), Handler)
        self.httpd.socket = self.ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
