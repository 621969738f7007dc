"""tests/integration/lib/dnsserver.py -- a real DNS server for integration tests.

Starts Debian's `unbound` daemon on a loopback address:port with the
records a test gives it, answers authoritatively from them, and stops it
again. Standard library only.

    from lib.dnsserver import DnsServer

    with DnsServer("127.0.0.53", 5353,
                   records=["example.test. MX 10 mx.example.test.",
                            "mx.example.test. A 127.0.0.2",
                            'example.test. TXT "v=spf1 " "-all"'],
                   servfail=["broken.test."],
                   refused=["refused.test."],
                   signed_zones=["secure.test."]) as dns:
        config_value = dns.endpoint          # "127.0.0.53:5353" for dns.resolver
        dns.add_record("new.example.test. A 127.0.0.9")   # at run time
        dns.remove_name("new.example.test.")
        rcode, ad, ancount = dns.query("example.test.", "MX")

What each name gets (see docs/dns.md, "Test DNS server"):
  * names in `records`: the records, AA, NOERROR. Other types at those
    names: NOERROR/NODATA. Other names in the same top-level domain:
    NXDOMAIN (a `static` local-zone per TLD, or per entry of `zones=`).
  * `servfail` names (and everything below them): SERVFAIL, immediately.
    They are forwarded to 127.0.0.1@1, which unbound refuses to query
    (do-not-query-localhost defaults to yes), so resolution fails at once.
  * `refused` names (and below): REFUSED (local-zone type `refuse`).
  * `signed_zones`: the records at or below each zone go into a zone file
    signed with ldns-signzone (fresh ECDSA P-256 keys, NSEC3) and served
    through unbound's auth-zone; this unbound validates them against the
    zone's DS (trust-anchor-file), so answers carry AD=1 like a local
    validating resolver's (the dns.dnssec: trust-ad case). The SOA, NS and
    an NS address record are added for you. trust_anchors() lists the DS
    files (for dns.trust_anchor under dns.dnssec: validate).
  * validate=False: this unbound does not validate (module iterator only):
    it serves the signed data and its RRSIGs and never sets AD, so a client
    with dns.dnssec: validate must validate by itself.
  * bogus=[names]: after signing, the RDATA of these names' TLSA (or A)
    records is altered, so their RRSIGs no longer verify (a forged answer).
    A validating server answers SERVFAIL for them; with validate=False the
    forged data is served as is.
  * anything else goes to unbound's iterator with no root hints reachable:
    do not rely on it (it ends in SERVFAIL after a while).

Runtime changes (add_record/remove_name) use unbound-control over a unix
socket in the server's temporary directory; they do not work for names in
signed zones. Clients (libunbound) cache answers: change names before the
client first asks, or use fresh names.
"""

import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import time

__all__ = ["DnsServer", "DnsServerUnavailable", "free_port"]

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
          "AAAA": 28, "SRV": 33, "DS": 43, "DNSKEY": 48, "TLSA": 52}


class DnsServerUnavailable(RuntimeError):
    """unbound (or ldns-keygen/ldns-signzone for signed zones) is not installed.
    Tests should exit 77 (skip) on this."""


def free_port(address="127.0.0.1"):
    """A port free for both UDP and TCP on `address` (racy, good enough for tests)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((address, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((address, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port on %s" % address)


def _fqdn(name):
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def _owner(rr):
    return _fqdn(rr.split()[0])


def _below(name, zone):
    return name == zone or name.endswith("." + zone)


def _quote(value):
    """Quote an unbound.conf string value (local-data may contain double quotes)."""
    if '"' not in value:
        return '"%s"' % value
    if "'" in value:
        raise ValueError("record has both quote kinds: %r" % value)
    return "'%s'" % value


def _encode_name(name):
    out = b""
    for label in _fqdn(name).rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


class DnsServer:
    """A private unbound on address:port. Use as a context manager, or call
    start() and stop(). port=None picks a free port."""

    def __init__(self, address="127.0.0.53", port=None, records=(), servfail=(),
                 refused=(), zones=None, signed_zones=(), unbound="unbound",
                 startup_timeout=10.0, validate=True, bogus=()):
        self.address = address
        self.port = port if port is not None else free_port(address)
        self.records = list(records)
        self.servfail = [_fqdn(n) for n in servfail]
        self.refused = [_fqdn(n) for n in refused]
        self.signed_zones = [_fqdn(z) for z in signed_zones]
        self.validate = validate
        self.bogus = [_fqdn(n).lower() for n in bogus]
        self.zones = [_fqdn(z) for z in zones] if zones is not None else None
        self.unbound = unbound
        self.startup_timeout = startup_timeout
        self.dir = None
        self.proc = None
        self.conf_path = None
        self.log_path = None

    # --- public -----------------------------------------------------------

    @property
    def endpoint(self):
        """The "IP:port" form that mxgate's dns.resolver takes."""
        return "%s:%d" % (self.address, self.port)

    def start(self):
        if shutil.which(self.unbound) is None and not os.path.exists("/usr/sbin/unbound"):
            raise DnsServerUnavailable("unbound is not installed (apt-get install unbound)")
        if self.signed_zones and not (shutil.which("ldns-keygen") and shutil.which("ldns-signzone")):
            raise DnsServerUnavailable("signed zones need ldns-keygen/ldns-signzone (ldnsutils)")
        self.dir = tempfile.mkdtemp(prefix="mxgate-dns-")
        self.conf_path = os.path.join(self.dir, "unbound.conf")
        self.log_path = os.path.join(self.dir, "unbound.log")
        with open(self.conf_path, "w") as f:
            f.write(self._config())
        exe = shutil.which(self.unbound) or "/usr/sbin/unbound"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([exe, "-d", "-c", self.conf_path],
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._fail("unbound exited with status %d" % self.proc.returncode)
            try:
                self.query("localhost.", "A", timeout=0.3)
                return self
            except OSError:
                time.sleep(0.05)
        self._fail("unbound did not answer on %s within %.0fs" % (self.endpoint, self.startup_timeout))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        if self.dir and not os.environ.get("MXGATE_KEEP_DNS_DIR"):
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def add_record(self, rr):
        """Adds one record ("name. TYPE rdata") to the running server."""
        self._control("local_data", rr)

    def remove_name(self, name):
        """Removes every record of `name` from the running server."""
        self._control("local_data_remove", _fqdn(name))

    def query(self, name, qtype="A", timeout=2.0, dnssec=False):
        """Sends one UDP query; returns (rcode, ad, ancount). Raises OSError
        (socket.timeout) when nothing answers."""
        qid = random.randrange(0, 65536)
        flags = 0x0100 | (0x0020 if dnssec else 0)  # RD, AD
        arcount = 1 if dnssec else 0
        msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, arcount)
        msg += _encode_name(name) + struct.pack("!HH", QTYPES[qtype.upper()], 1)
        if dnssec:  # OPT with DO=1 (RFC 3225)
            msg += b"\0" + struct.pack("!HHIH", 41, 1232, 0x8000, 0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(msg, (self.address, self.port))
            end = time.monotonic() + timeout
            while True:
                s.settimeout(max(0.01, end - time.monotonic()))
                data, _ = s.recvfrom(65535)
                if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
                    rflags = struct.unpack("!H", data[2:4])[0]
                    ancount = struct.unpack("!H", data[6:8])[0]
                    return rflags & 0xF, bool(rflags & 0x0020), ancount

    # --- internals --------------------------------------------------------

    def _fail(self, why):
        log = ""
        try:
            with open(self.log_path) as f:
                log = f.read()[-4000:]
        except OSError:
            pass
        self.stop()
        raise RuntimeError("%s\n--- unbound log ---\n%s" % (why, log))

    def _control(self, *args):
        if self.proc is None:
            raise RuntimeError("DnsServer is not running")
        exe = shutil.which("unbound-control") or "/usr/sbin/unbound-control"
        r = subprocess.run([exe, "-c", self.conf_path] + list(args),
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0 or r.stdout.strip() not in ("ok", ""):
            raise RuntimeError("unbound-control %s: %s%s" % (" ".join(args), r.stdout, r.stderr))

    def _signed(self, name):
        return any(_below(name, z) for z in self.signed_zones)

    def _config(self):
        plain = [rr for rr in self.records if not self._signed(_owner(rr))]
        if self.zones is not None:
            static = list(self.zones)
        else:  # one static zone per top-level domain used
            static = sorted({_owner(rr).rstrip(".").split(".")[-1] + "." for rr in plain})
        lines = [
            "server:",
            "  interface: %s@%d" % (self.address, self.port),
            "  port: %d" % self.port,
            "  do-daemonize: no",
            '  chroot: ""',
            '  username: ""',
            '  directory: "%s"' % self.dir,
            '  pidfile: "%s"' % os.path.join(self.dir, "unbound.pid"),
            "  use-syslog: no",
            '  logfile: "%s"' % self.log_path,
            "  verbosity: 1",
            "  num-threads: 1",
            "  so-reuseport: no",
            "  do-ip6: no",
            "  access-control: 127.0.0.0/8 allow",
            '  module-config: "%s"' % ("validator iterator" if self.signed_zones and self.validate else "iterator"),
        ]
        for z in static:
            lines.append('  local-zone: "%s" static' % z)
        for rr in plain:
            lines.append("  local-data: %s" % _quote(rr))
        for n in self.servfail:
            lines.append('  local-zone: "%s" transparent' % n)
        for n in self.refused:
            lines.append('  local-zone: "%s" refuse' % n)
        for z in self.signed_zones:
            lines.append('  local-zone: "%s" transparent' % z)  # let auth-zone answer
            anchor = self._sign_zone(z)
            if self.validate:
                lines.append('  trust-anchor-file: "%s"' % anchor)
        for z in self.signed_zones:
            lines += ["auth-zone:", '  name: "%s"' % z,
                      '  zonefile: "%s"' % os.path.join(self.dir, z + "zone.signed"),
                      "  for-downstream: no", "  for-upstream: yes", "  fallback-enabled: no"]
        for n in self.servfail:
            lines += ["forward-zone:", '  name: "%s"' % n, "  forward-addr: 127.0.0.1@1"]
        lines += ["remote-control:", "  control-enable: yes",
                  '  control-interface: "%s"' % os.path.join(self.dir, "control.sock")]
        return "\n".join(lines) + "\n"

    def _sign_zone(self, zone):
        """Writes <zone>zone.signed and returns the DS trust-anchor file."""
        rrs = [rr for rr in self.records if _below(_owner(rr), zone)]
        ns = "ns." + zone
        body = ["$TTL 300",
                "%s IN SOA %s hostmaster.%s 1 3600 600 86400 300" % (zone, ns, zone),
                "%s IN NS %s" % (zone, ns),
                "%s IN A %s" % (ns, self.address)]
        body += rrs
        path = os.path.join(self.dir, zone + "zone")
        with open(path, "w") as f:
            f.write("\n".join(body) + "\n")

        def run(*cmd):
            r = subprocess.run(list(cmd), cwd=self.dir, capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr))
            return r.stdout.strip()

        ksk = run("ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone)
        zsk = run("ldns-keygen", "-a", "ECDSAP256SHA256", zone)
        run("ldns-signzone", "-n", "-f", path + ".signed", path, ksk, zsk)
        if self.bogus:
            self._forge(path + ".signed")
        return os.path.join(self.dir, ksk + ".ds")

    def trust_anchors(self):
        """The DS trust-anchor files of the signed zones (after start())."""
        return [os.path.join(self.dir, f) for f in sorted(os.listdir(self.dir)) if f.endswith(".ds")]

    def _forge(self, signed_path):
        """Alters TLSA/A RDATA of self.bogus names, keeping their RRSIGs."""
        out = []
        with open(signed_path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 5 and parts[0].lower() in self.bogus and parts[3] in ("TLSA", "A"):
                    last = parts[-1]
                    if parts[3] == "TLSA":
                        parts[-1] = last[:-1] + ("0" if last[-1] != "0" else "1")
                    else:
                        octets = last.split(".")
                        octets[-1] = str((int(octets[-1]) + 1) % 256)
                        parts[-1] = ".".join(octets)
                    line = "\t".join(parts) + "\n"
                out.append(line)
        with open(signed_path, "w") as f:
            f.writelines(out)


def main(argv=None):
    """Command-line use, for tests not written in Python (tests/unit/dns):

        python3 dnsserver.py --address 127.0.0.53 [--port N] --record RR ...
                [--servfail NAME ...] [--refused NAME ...] [--signed-zone Z ...]

    Prints "READY <port> <trust-anchor-file>..." on stdout once the server
    answers, then runs until stdin reaches EOF (or SIGTERM), and stops.
    Exit status 77 when unbound (or ldnsutils, for signed zones) is missing.
    """
    import argparse
    import signal
    import sys

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--address", default="127.0.0.53")
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--record", action="append", default=[])
    ap.add_argument("--servfail", action="append", default=[])
    ap.add_argument("--refused", action="append", default=[])
    ap.add_argument("--signed-zone", action="append", default=[])
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    dns = DnsServer(args.address, args.port, records=args.record, servfail=args.servfail,
                    refused=args.refused, signed_zones=args.signed_zone)
    try:
        dns.start()
    except DnsServerUnavailable as e:
        print("SKIP %s" % e, flush=True)
        return 77
    try:
        anchors = [os.path.join(dns.dir, f) for f in sorted(os.listdir(dns.dir)) if f.endswith(".ds")]
        print(" ".join(["READY", str(dns.port)] + anchors), flush=True)
        sys.stdin.read()
    finally:
        dns.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
