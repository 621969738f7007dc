"""Integration-test harness: real mxgate processes and real peers on loopback.

Every test file picks its own 127.a.b.c addresses, so test files can run in
parallel (ctest -j). Pieces:

  Mxgate       writes a config, runs `mxgate serve`, reads its JSON log events
  SmtpSink     Postfix's smtp-sink as the home box (dump files, fault options)
  CaptureSink  a byte-exact SMTP/LMTP receiver written here (smtp-sink's dump
               turns CRLF into LF, so "byte-identical" needs this one)
  RawSmtp      a socket client that sends exact bytes (smuggling, injection)

Exit code convention (ctest): 0 pass, 77 skip (SKIP_RETURN_CODE), else fail.
"""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

SOURCE_DIR = os.environ.get("MXGATE_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
MXGATE_BIN = os.environ.get("MXGATE_BIN", os.path.join(SOURCE_DIR, "build", "mxgate"))


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(77)


def require(binary):
    path = shutil.which(binary) or (binary if os.path.exists(binary) else None)
    if not path:
        skip(f"{binary} is not installed (contrib/install-deps.sh installs it)")
    return path


def wait_port(host, port, timeout=10.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


class Mxgate:
    """One mxgate daemon with its own spool and log in a temp directory."""

    def __init__(self, config_yaml, workdir=None, name="mxgate"):
        self.dir = workdir or tempfile.mkdtemp(prefix=f"{name}-")
        self.config_path = os.path.join(self.dir, "mxgate.yaml")
        self.log_path = os.path.join(self.dir, "mxgate.log")
        self.stderr_path = os.path.join(self.dir, "stderr.txt")
        self.spool = os.path.join(self.dir, "spool")
        self.proc = None
        self.write_config(config_yaml)

    def write_config(self, config_yaml):
        text = config_yaml.replace("{dir}", self.dir).replace("{spool}", self.spool).replace("{log}", self.log_path)
        with open(self.config_path, "w") as f:
            f.write(text)

    def start(self, wait_for=None, prefix=None):
        """Starts the daemon; waits until (host, port) in wait_for accept."""
        cmd = (prefix or []) + [MXGATE_BIN, "serve", "-c", self.config_path]
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._stderr, stderr=self._stderr, cwd=self.dir)
        for host, port in wait_for or []:
            try:
                wait_port(host, port, proc=self.proc)
            except (TimeoutError, RuntimeError):
                self.dump()
                raise
        return self

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def run(self, *args, input=None, timeout=30):
        """Runs another mxgate subcommand against this instance's config."""
        return subprocess.run([MXGATE_BIN, *args, "-c", self.config_path], input=input,
                              capture_output=True, text=True, timeout=timeout, cwd=self.dir)

    def events(self, name=None):
        out = []
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        ev = json.loads(line)
                    except json.JSONDecodeError:
                        raise AssertionError(f"log line is not JSON: {line!r}")
                    if name is None or ev.get("event") == name:
                        out.append(ev)
        except FileNotFoundError:
            pass
        return out

    def wait_event(self, name, pred=lambda e: True, timeout=15.0, count=1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [e for e in self.events(name) if pred(e)]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        self.dump()
        raise AssertionError(f"event {name} (x{count}) not seen within {timeout}s")

    def dump(self):
        sys.stderr.write(f"--- mxgate stderr ({self.stderr_path}) ---\n")
        try:
            sys.stderr.write(open(self.stderr_path, errors="replace").read()[-4000:])
        except OSError:
            pass
        sys.stderr.write(f"--- mxgate log ({self.log_path}) ---\n")
        try:
            sys.stderr.write(open(self.log_path, errors="replace").read()[-8000:])
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            self.dump()
        self.stop()


class SmtpSink:
    """Postfix's smtp-sink as the home box. extra: e.g. ["-f", "data"]."""

    def __init__(self, host, port, lmtp=False, extra=None):
        self.bin = require("/usr/sbin/smtp-sink")
        self.host, self.port = host, port
        self.dir = tempfile.mkdtemp(prefix="sink-")
        args = [self.bin]
        if os.geteuid() == 0:
            args += ["-u", "nobody"]
            os.chmod(self.dir, 0o777)
        if lmtp:
            args.append("-L")
        args += ["-d", os.path.join(self.dir, "%Y%m%d%H%M%S.")]
        args += extra or []
        args += [f"{host}:{port}", "256"]
        self.args = args
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(self.host, self.port)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)

    def messages(self):
        out = []
        for root, _, files in os.walk(self.dir):
            for fn in sorted(files):
                with open(os.path.join(root, fn), "rb") as f:
                    out.append(f.read())
        return out

    def wait_messages(self, n, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.messages()
            if len(m) >= n:
                return m
            time.sleep(0.05)
        raise AssertionError(f"home box got {len(self.messages())} messages, wanted {n}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class CaptureSink:
    """A byte-exact SMTP (or LMTP) receiver. Records (mail_from, rcpts, data)
    with data exactly as sent on the wire between DATA's 354 and CRLF.CRLF
    (dot-unstuffed). rcpt_reply(addr) may return a custom reply line."""

    def __init__(self, host, port, lmtp=False, rcpt_reply=None, data_reply=None, ehlo_extra=()):
        self.host, self.port, self.lmtp = host, port, lmtp
        self.rcpt_reply = rcpt_reply or (lambda a: "250 2.1.5 Ok")
        self.data_reply = data_reply or (lambda rcpts: ["250 2.0.0 Ok: queued"] * (len(rcpts) if lmtp else 1))
        self.ehlo_extra = list(ehlo_extra)
        self.received = []
        self.sessions = 0
        self._sock = None
        self._stop = False
        self._conns = set()
        self._conns_lock = threading.Lock()

    def start(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.host, self.port))
        self._sock.listen(64)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop = True
        # close() alone does not wake a thread blocked in accept() on Linux:
        # the socket would keep accepting. shutdown() does.
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass
        self._thread.join(2)
        # A stopped server's connections end with it, as when a real
        # server process exits: a client that kept one open (mxgate's
        # delivery connection linger, like Postfix's connection cache)
        # must see it closed, never a server that still takes mail.
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        self.sessions += 1
        with self._conns_lock:
            if self._stop:
                conn.close()
                return
            self._conns.add(conn)
        f = conn.makefile("rb")

        def send(line):
            conn.sendall(line.encode() + b"\r\n")

        send("220 capture ESMTP")
        mail, rcpts = None, []
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
                verb = cmd[:4].upper()
                if verb in ("EHLO", "LHLO"):
                    for cap in ["capture", "PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 104857600"] + self.ehlo_extra[:-1]:
                        send("250-" + cap)
                    send("250 " + (self.ehlo_extra[-1] if self.ehlo_extra else "ENHANCEDSTATUSCODES"))
                elif verb == "HELO":
                    send("250 capture")
                elif verb == "MAIL":
                    mail, rcpts = cmd[10:].split(">")[0].lstrip("<"), []
                    send("250 2.1.0 Ok")
                elif verb == "RCPT":
                    addr = cmd[8:].split(">")[0].lstrip("<")
                    reply = self.rcpt_reply(addr)
                    if reply.startswith("2"):
                        rcpts.append(addr)
                    send(reply)
                elif verb == "DATA":
                    if not rcpts:
                        send("503 5.5.1 no valid recipients")
                        continue
                    send("354 go")
                    lines = []  # joined once: += on bytes is quadratic for big messages
                    while True:
                        l = f.readline()
                        if not l:
                            return
                        if l == b".\r\n":
                            break
                        if l.startswith(b"."):
                            l = l[1:]
                        lines.append(l)
                    self.received.append((mail, list(rcpts), b"".join(lines)))
                    for r in self.data_reply(rcpts):
                        send(r)
                elif verb == "RSET":
                    mail, rcpts = None, []
                    send("250 2.0.0 Ok")
                elif verb == "QUIT":
                    send("221 2.0.0 Bye")
                    return
                elif verb == "NOOP":
                    send("250 2.0.0 Ok")
                else:
                    send("502 5.5.2 not implemented")
        except OSError:
            return  # stop() shut the connection down, or the peer went away (killed)
        finally:
            with self._conns_lock:
                self._conns.discard(conn)
            conn.close()

    def wait(self, n, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.received) >= n:
                return self.received
            time.sleep(0.05)
        raise AssertionError(f"capture sink got {len(self.received)} messages, wanted {n}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def raw_transaction(addr, sender, rcpt, data, helo="client.test", source=None, timeout=30.0):
    """One SMTP transaction carrying exact message bytes (dot-stuffed here).

    Returns the (code, text) replies from MAIL on — MAIL, RCPT, DATA's 354,
    end of data — stopping at the first that is not 250/354, so the last
    entry is the end-of-data reply or the one that refused. A greeting
    other than 220 is returned alone."""
    c = RawSmtp(*addr, source=source, timeout=timeout)
    out = []
    try:
        greeting = c.reply()
        if greeting[0] != 220:
            return [greeting]
        c.cmd("EHLO " + helo)
        for line, want in (("MAIL FROM:<%s>" % sender, 250), ("RCPT TO:<%s>" % rcpt, 250), ("DATA", 354)):
            out.append(c.cmd(line))
            if out[-1][0] != want:
                return out
        c.send(data.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
        out.append(c.reply())
        c.cmd("QUIT")
        return out
    finally:
        c.close()


class RawSmtp:
    """Sends exact bytes and reads SMTP replies (multiline aware)."""

    def __init__(self, host, port, source=None, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0) if source else None)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed; buffered: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """Returns (code, full text of all lines)."""
        lines = []
        while True:
            l = self._line()
            lines.append(l)
            if len(l) < 4 or l[3] != "-":
                break
        return int(lines[0][:3]), "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5.0):
        """True when the server closes the connection (after any buffered data)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, TimeoutError):
            return False
        except OSError:
            return True

    def starttls(self, server_hostname=None):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server_hostname)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Check:
    """Collects failures so one run reports all of them, then exits 1."""

    def __init__(self):
        self.failures = []
        self.passed = 0

    def eq(self, what, got, want):
        if got == want:
            self.passed += 1
        else:
            self.failures.append(f"{what}: got {got!r}, want {want!r}")

    def true(self, what, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failures.append(f"{what} {detail}".strip())

    def done(self):
        for f in self.failures:
            print("FAIL:", f)
        print(f"{self.passed} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)
