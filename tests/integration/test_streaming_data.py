#!/usr/bin/env python3
"""DATA streamed into the spool with the inbound checks on (issue 4; issue 2's
memory): the mx listener writes the message into incoming/<id> as it
arrives, keeps only the header block in memory, DKIM reads the file back,
forged Authentication-Results are cut out of the file, and the file is
committed or removed after the verdict.

Real peers: a private unbound (lib/dnsserver.py) with SPF, DKIM and DMARC
records, messages signed for real with python3-dkim, Postfix's smtp-sink
and a byte-exact capture sink as home boxes. The client connects from
127.0.23.11, which stream.test's SPF authorises (so unsigned test messages
pass DMARC too); the Authentication-Results mxgate adds must still say
dkim=pass for every signed message: libopendkim saw exactly the bytes that
were spooled.

 1. 6 MiB message (forged A-R claiming our name, DKIM-signed) at
    smtp-sink: waits for the delivery and for smtp-sink's dump to hold the
    whole message, then compares every byte after the headers mxgate added.
 2. Header/body boundary and chunk boundaries in DATA: header blocks of
    64 KiB - 2 .. + 2 (the spool chunk, the writer's buffer and the DKIM
    read block are 64 KiB), messages of 128 KiB - 1 .. + 1, an empty body,
    a message without a body separator; all byte-exact at the capture sink.
 3. A header block of exactly 256 KiB (a forged A-R in its middle, 1 MiB
    body) is accepted and delivered without the forged field; 256 KiB + 1
    gets 552 5.3.4 and leaves no file.
 4. BDAT/CHUNKING with the checks on: chunks split at each byte around
    the CRLFCRLF, through the forged field, one-byte chunks, BDAT 0 LAST.
 5. Refusals leave nothing: DMARC p=reject (550 5.7.1) and a message
    without From: (550 5.7.1), both 2 MiB: no file in incoming/, queue/,
    hold/, nothing delivered.
 6. kill -9 during a streaming DATA (8 MiB in flight; the daemon's RSS did
    not grow by the message: it is in incoming/): after the restart nothing
    is left or delivered. Then kill -9 at random moments right after the
    final dot of 1 MiB messages with a forged A-R (checks, head rewrite,
    fsync, 250): every message that got its 250 is delivered, and every
    delivered one is whole.
Addresses: 127.0.23.x. Exit 0 pass, 77 skip, else fail.
"""
import os
import random
import re
import smtplib
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.harness import CaptureSink, Check, Mxgate, RawSmtp, SmtpSink, skip  # noqa: E402
from lib.dnsserver import DnsServer, DnsServerUnavailable, free_port  # noqa: E402
from lib.dkimkeys import import_dkim, make_key, txt  # noqa: E402

dkim = import_dkim()

MX = ("127.0.23.1", 2525)
HOME = ("127.0.23.4", 2526)    # capture sink (byte-exact, CRLF kept)
SINK = ("127.0.23.5", 2526)    # Postfix's smtp-sink
DNS_ADDR = "127.0.23.53"
CLIENT = "127.0.23.11"         # authorised by stream.test's SPF
KIB = 1024
HEADER_CAP = 256 * KIB         # kMaxHeaderCapture (relay/server/session_impl.hpp)
CRLF = b"\r\n"
FORGED = b"Authentication-Results: mx.stream.test; dkim=pass header.d=forged.test\r\n"
FORGED_FOLDED = (b"Authentication-Results: mx.stream.test;\r\n\tspf=pass smtp.mailfrom=forged.test;\r\n"
                 b"\tdmarc=pass header.from=forged.test\r\n")
OTHER_AR = b"Authentication-Results: other.example; spf=pass smtp.mailfrom=stream.test\r\n"

CONFIG = """
hostname: mx.stream.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "%s:%d", tls: none }
dns: { resolver: "%s" }
domains:
  - name: example.test
    recipients: ["@example.test"]
    downstream: { address: "%s:%d", tls: none }
  - name: sink.test
    recipients: ["@sink.test"]
    downstream: { address: "%s:%d", tls: none }
limits: { message_size: 64M }
policy: { spf: { enabled: true }, dkim: { verify: true }, dmarc: { enforce: true } }
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
"""


def body_of(n, tag=b"b"):
    """Exactly n bytes of CRLF lines (n == 0 or n >= 2), every line numbered."""
    if n == 0:
        return b""
    assert n >= 2
    out, i = [], 0
    while n > 0:
        k = 100 if n >= 102 or n == 100 else n  # never leaves a 1-byte rest
        # k bytes: a line of k-2 characters and CRLF
        text = (b"%07d" % i + tag * k)[:k - 2]
        out.append(text + CRLF)
        n -= k
        i += 1
    return b"".join(out)


def pad_fields(n):
    """Exactly n bytes of unsigned X-P: fields (n == 0 or n >= 7), lines <= 900."""
    out, i = [], 0
    while n > 0:
        k = min(n, 900)
        if 0 < n - k < 7:
            k = n - 7
        assert k >= 7
        out.append(b"X-P: " + (b"%06d" % i + b"p" * k)[:k - 7] + CRLF)
        n -= k
        i += 1
    return b"".join(out)


class Signer:
    def __init__(self, privkey):
        self.key = privkey

    def signature(self, headers, body):
        return dkim.sign(headers + CRLF + body, b"sel", b"stream.test", self.key,
                         include_headers=[b"from", b"to", b"subject"])


def base_headers(subject, author=b"a@stream.test"):
    return b"From: <%s>\r\nTo: <bob@example.test>\r\nSubject: %s\r\n" % (author, subject)


def build(signer, subject, body, header_block=None, forged=b"", forged_at=0.0, sign=True, extra=b""):
    """Returns (sent, expected): the message as sent, and as it must be
    spooled (the forged field gone). header_block: the exact size of the
    header block (up to and including the empty line) by padding.
    forged_at: where the forged field goes among the pad fields (0..1)."""
    base = extra + base_headers(subject)
    sig = signer.signature(base_headers(subject), body) if sign else b""
    fixed = len(sig) + len(base) + len(forged) + 2
    pad = pad_fields(header_block - fixed) if header_block else b""
    cut = pad.find(b"X-P: ", int(len(pad) * forged_at)) if pad and forged_at > 0 else 0
    if cut < 0:
        cut = len(pad)
    head = pad[:cut] + forged + pad[cut:] + sig + base
    sent = head + CRLF + body
    expected = pad + sig + base + CRLF + body
    if header_block:
        assert len(head) + 2 == header_block, (len(head) + 2, header_block)
    return sent, expected


def stuffed(data):
    data = data.replace(b"\r\n.", b"\r\n..")
    return b"." + data if data.startswith(b".") else data


def end_of_data(data):
    """The terminator: CRLF.CRLF whose first CRLF is the message's last
    line end (a message not ending in CRLF gets one, as every client adds)."""
    return b".\r\n" if data.endswith(CRLF) or not data else b"\r\n.\r\n"


def fields_of(block):
    """Field names of a CRLF header block (folded lines joined)."""
    return [m.group(1).decode() for m in re.finditer(rb"(?:^|\r\n)([!-9;-~]+):", block)]


def spool_files(mx):
    out = {}
    for sub in ("incoming", "free", "queue", "hold"):
        d = os.path.join(mx.spool, sub)
        out[sub] = sorted(os.listdir(d)) if os.path.isdir(d) else []
    return out


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def smtp_send(data, rcpt="bob@example.test", sender="a@stream.test"):
    """One DATA transaction over RawSmtp; (code, text) of the end of data."""
    c = RawSmtp(*MX, source=CLIENT, timeout=60)
    try:
        c.reply()
        c.cmd("EHLO client.stream.test")
        c.cmd("MAIL FROM:<%s>" % sender)
        code, text = c.cmd("RCPT TO:<%s>" % rcpt)
        if code != 250:
            return code, text
        code, text = c.cmd("DATA")
        if code != 354:
            return code, text
        c.send(stuffed(data) + end_of_data(data))
        result = c.reply()
        c.cmd("QUIT")
        return result
    finally:
        c.close()


def bdat_send(data, cuts, zero_last=False):
    """One BDAT transaction, chunks split at the offsets in cuts."""
    c = RawSmtp(*MX, source=CLIENT, timeout=60)
    try:
        c.reply()
        code, text = c.cmd("EHLO client.stream.test")
        if "CHUNKING" not in text:
            return 0, "CHUNKING not offered: " + text
        c.cmd("MAIL FROM:<a@stream.test>")
        c.cmd("RCPT TO:<bob@example.test>")
        bounds = [0] + sorted(set(x for x in cuts if 0 < x < len(data))) + [len(data)]
        pieces = [data[a:b] for a, b in zip(bounds, bounds[1:])]
        for i, p in enumerate(pieces):
            last = i == len(pieces) - 1 and not zero_last
            c.send(b"BDAT %d%s\r\n" % (len(p), b" LAST" if last else b"") + p)
            code, text = c.reply()
            if last or code != 250:
                break
        if zero_last and code == 250:
            code, text = c.cmd("BDAT 0 LAST")
        c.cmd("QUIT")
        return code, text
    finally:
        c.close()


def check_delivered(t, what, data, expected):
    """data: as the capture sink got it = mxgate's added fields + expected."""
    if not data.endswith(expected):
        # where it differs, for the report
        tail = data[len(data) - len(expected):] if len(data) >= len(expected) else data
        at = next((i for i, (a, b) in enumerate(zip(tail, expected)) if a != b), min(len(tail), len(expected)))
        t.true(what + ": byte-identical after the added fields", False,
               "(got %d bytes, expected %d after the prefix; first difference at %d: %r vs %r)"
               % (len(data), len(expected), at, tail[at:at + 40], expected[at:at + 40]))
        return
    added = data[:len(data) - len(expected)]
    t.true(what + ": byte-identical after the added fields", True)
    t.eq(what + ": only mxgate's fields added", sorted(set(fields_of(added))),
         ["Authentication-Results", "Received"])
    t.true(what + ": our Authentication-Results says dkim=pass",
           b"Authentication-Results: mx.stream.test;" in added and b"dkim=pass" in added and
           b"header.d=stream.test" in added, added.decode(errors="replace"))
    t.true(what + ": no forged field left", b"forged.test" not in data)


def received_with(home, subject, timeout=30.0):
    deadline = time.time() + timeout
    needle = b"Subject: " + subject + CRLF
    while time.time() < deadline:
        found = [d for (_, _, d) in list(home.received) if needle in d]
        if found:
            return found
        time.sleep(0.05)
    return []


# --- 1. 6 MiB at smtp-sink

def part_six_mib(t, mx, sink, signer):
    body = body_of(6 * 1024 * KIB, b"z")
    subject = b"six-mib"
    sent, expected = build(signer, subject, body, forged=FORGED)
    s = smtplib.SMTP(*MX, timeout=120, source_address=(CLIENT, 0))
    s.ehlo("client.stream.test")
    s.mail("a@stream.test")
    s.rcpt("carol@sink.test")
    code, text = s.data(sent)
    s.quit()
    t.eq("6 MiB: accepted", code, 250)
    qid = text.decode().rsplit(" ", 1)[-1]
    try:
        mx.wait_event("delivery.success", lambda e: e.get("queue_id") == qid, timeout=60)
    except AssertionError:
        t.true("6 MiB: delivered", False, str([e for e in mx.events() if e.get("queue_id") == qid])[-600:])
        return
    # smtp-sink writes its dump file while the data arrives: wait for the
    # whole message, not for the file. Observed: the dump has LF line ends
    # and one extra LF after the message.
    want = expected.replace(CRLF, b"\n") + b"\n"
    got, deadline = b"", time.time() + 30
    while time.time() < deadline:
        dumps = [m for m in sink.messages() if b"Subject: six-mib\n" in m]
        got = dumps[0] if dumps else b""
        if len(got) >= len(want) and got.endswith(want[-4096:]):
            break
        time.sleep(0.1)
    t.true("6 MiB: smtp-sink's dump holds the whole message", got.endswith(want[-4096:]),
           "(%d bytes)" % len(got))
    start = got.find(b"\nX-P:") + 1 if b"\nX-P:" in got else got.find(b"\nDKIM-Signature:") + 1
    t.true("6 MiB: every byte after the added fields identical", got[start:] == want,
           "(%d vs %d bytes)" % (len(got) - start, len(want)))
    added = got[:start]
    t.true("6 MiB: our Authentication-Results with dkim=pass (DKIM read the spooled file)",
           b"Authentication-Results: mx.stream.test;" in added and b"dkim=pass" in added, added[-600:])
    t.true("6 MiB: forged Authentication-Results removed", b"forged.test" not in got)


# --- 2. boundaries in DATA

def part_boundaries(t, home, signer):
    cases = []
    for d in (-2, -1, 0, 1, 2):
        cases.append(("header block 64 KiB%+d" % d, 64 * KIB + d, 2 * KIB, FORGED, 0.5))
    for d in (-1, 0, 1):  # whole message around two chunks; header block 1 KiB
        cases.append(("message 128 KiB%+d" % d, KIB, 128 * KIB + d - KIB, FORGED, 0.3))
    cases.append(("body 64 KiB exactly after a 64 KiB header block", 64 * KIB, 64 * KIB, b"", 0))
    cases.append(("empty body", 2 * KIB, 0, FORGED, 0.9))
    cases.append(("folded forged field at 64 KiB of a 130 KiB header block", 130 * KIB, 300 * KIB, FORGED_FOLDED, 0.5))
    for i, (what, hb, bl, forged, at) in enumerate(cases):
        subject = b"boundary-%d" % i
        sent, expected = build(signer, subject, body_of(bl), header_block=hb, forged=forged, forged_at=at)
        code, text = smtp_send(sent)
        t.eq(what + ": accepted", code, 250)
        got = received_with(home, subject)
        t.eq(what + ": delivered once", len(got), 1)
        if got:
            check_delivered(t, what, got[0], expected)
    # No empty line at all: the whole message is its header block.
    subject = b"no-body-separator"
    sent = FORGED + OTHER_AR + base_headers(subject)
    code, _ = smtp_send(sent)
    t.eq("no body separator: accepted", code, 250)
    got = received_with(home, subject)
    t.true("no body separator: delivered without the forged field, the other A-R kept",
           bool(got) and got[0].endswith(OTHER_AR + base_headers(subject)) and b"forged.test" not in got[0],
           repr(got[0][-300:]) if got else "nothing")


# --- 3. the header block cap

def part_header_cap(t, mx, home, signer):
    subject = b"header-at-cap"
    sent, expected = build(signer, subject, body_of(1024 * KIB), header_block=HEADER_CAP,
                           forged=FORGED_FOLDED, forged_at=0.5, extra=OTHER_AR)
    code, text = smtp_send(sent)
    t.eq("header block of exactly 256 KiB: accepted", code, 250)
    got = received_with(home, subject)
    if got:
        check_delivered(t, "256 KiB header block, forged field in its middle", got[0], expected)
        t.true("another host's Authentication-Results kept", OTHER_AR in got[0])
    else:
        t.true("256 KiB header block delivered", False)
    subject = b"header-over-cap"
    sent, _ = build(signer, subject, body_of(64 * KIB), header_block=HEADER_CAP + 1, forged=FORGED, forged_at=0.5)
    code, text = smtp_send(sent)
    t.eq("header block of 256 KiB + 1: 552 5.3.4", (code, text[4:9]), (552, "5.3.4"))
    t.eq("header block over the cap: nothing left", spool_files(mx)["incoming"], [])
    time.sleep(1)
    t.eq("header block over the cap: nothing delivered", received_with(home, subject, timeout=0.5), [])


# --- 4. BDAT

def part_bdat(t, home, signer):
    def message(subject):
        return build(signer, subject, body_of(200 * KIB), header_block=70 * KIB, forged=FORGED, forged_at=0.5)

    sent, _ = message(b"bdat-0")
    end = sent.index(b"\r\n\r\n") + 4
    f = sent.index(FORGED)
    variants = [
        ("around CRLFCRLF", [end - 3, end - 2, end - 1, end, end + 1]),
        ("through the forged field", [f + 1, f + 30, f + len(FORGED) - 1, 64 * KIB, 128 * KIB]),
        ("one-byte chunks at the end of the header block", list(range(end - 6, end + 3))),
        ("64 KiB chunks", list(range(64 * KIB, len(sent), 64 * KIB))),
    ]
    for i, (what, cuts) in enumerate(variants):
        subj = b"bdat-%d" % i
        s_i, e_i = message(subj)  # signed again: the signature covers Subject
        t.eq("BDAT " + what + ": the cuts fall where meant", (s_i.index(b"\r\n\r\n") + 4, s_i.index(FORGED)),
             (end, f))
        code, text = bdat_send(s_i, cuts)
        t.eq("BDAT " + what + ": accepted", code, 250)
        got = received_with(home, subj)
        if got:
            check_delivered(t, "BDAT " + what, got[0], e_i)
        else:
            t.true("BDAT " + what + ": delivered", False)
    subj = b"bdat-zero-last"
    s_i, e_i = build(signer, subj, body_of(10 * KIB), forged=FORGED)
    code, _ = bdat_send(s_i, [len(s_i) // 2], zero_last=True)
    t.eq("BDAT ... BDAT 0 LAST: accepted", code, 250)
    got = received_with(home, subj)
    if got:
        check_delivered(t, "BDAT 0 LAST", got[0], e_i)
    else:
        t.true("BDAT 0 LAST: delivered", False)


# --- 5. refusals leave nothing

def part_refusals(t, mx, home, signer):
    subject = b"dmarc-reject"
    sent = base_headers(subject, author=b"x@reject.test") + CRLF + body_of(2048 * KIB)
    code, text = smtp_send(sent, sender="x@reject.test")
    t.eq("DMARC p=reject: 550 5.7.1", (code, text[4:9]), (550, "5.7.1"))
    files = spool_files(mx)
    t.eq("DMARC reject: nothing in incoming/", files["incoming"], [])
    t.eq("DMARC reject: nothing in hold/", files["hold"], [])
    ev = mx.wait_event("policy.dmarc", lambda e: e.get("domain") == "reject.test")[0]
    t.eq("DMARC reject: policy.dmarc event", (ev.get("result"), ev.get("disposition")), ("fail", "reject"))
    subject = b"no-from"
    sent = b"To: <bob@example.test>\r\nSubject: no-from\r\n\r\n" + body_of(2048 * KIB)
    code, text = smtp_send(sent)
    t.eq("no From: 550 5.7.1", (code, text[4:9]), (550, "5.7.1"))
    t.eq("no From: nothing in incoming/", spool_files(mx)["incoming"], [])
    time.sleep(1.5)  # a retry round
    t.eq("refused messages: nothing delivered",
         received_with(home, b"dmarc-reject", 0.2) + received_with(home, b"no-from", 0.2), [])
    t.eq("refused messages: nothing queued", spool_files(mx)["queue"], [])


# --- 6. kill -9

def part_kill_streaming(t, mx, home, signer):
    subject = b"killed-in-data"
    sent = base_headers(subject) + CRLF + body_of(8 * 1024 * KIB)
    c = RawSmtp(*MX, source=CLIENT, timeout=60)
    c.reply()
    c.cmd("EHLO client.stream.test")
    c.cmd("MAIL FROM:<a@stream.test>")
    c.cmd("RCPT TO:<bob@example.test>")
    rss_before = vm_rss_kib(mx.proc.pid)
    code, _ = c.cmd("DATA")
    t.eq("kill in DATA: 354", code, 354)
    # The writer creates incoming/<id> or writes over a recycled file in
    # free/ (docs/spool.md "Recycling"): watch both for the file that grows.
    def sizes():
        out = {}
        for sub in ("incoming", "free"):
            for n in spool_files(mx)[sub]:
                try:
                    out[(sub, n)] = os.path.getsize(os.path.join(mx.spool, sub, n))
                except FileNotFoundError:
                    pass
        return out

    before = sizes()
    c.send(stuffed(sent))  # no final dot
    size, deadline = 0, time.time() + 30
    while time.time() < deadline:
        size = max([v for k, v in sizes().items() if v > before.get(k, 0)] or [0])
        if size >= len(sent) - 1024 * KIB:
            break
        time.sleep(0.05)
    t.true("kill in DATA: the message streams into incoming/ as it arrives", size >= len(sent) - 1024 * KIB,
           "(%d of %d bytes in the file)" % (size, len(sent)))
    growth = vm_rss_kib(mx.proc.pid) - rss_before
    t.true("kill in DATA: RSS grew by less than half the bytes in flight", growth < len(sent) // 2048,
           "(%d KiB for %d KiB)" % (growth, len(sent) // 1024))
    mx.kill()
    c.close()
    mx.start(wait_for=[MX])
    files = spool_files(mx)
    t.eq("kill in DATA: incoming/ emptied at start", files["incoming"], [])
    t.eq("kill in DATA: free/ emptied at start", files["free"], [])
    t.eq("kill in DATA: nothing queued", files["queue"], [])
    time.sleep(1.5)
    t.eq("kill in DATA: nothing delivered", received_with(home, subject, 0.2), [])


def part_kill_after_dot(t, mx, home, signer, rounds=12):
    rng = random.Random(2311)
    acked, sent_all = {}, {}
    body = body_of(1024 * KIB, b"k")
    for i in range(rounds):
        subject = b"kill-after-dot-%d" % i
        sent, expected = build(signer, subject, body, forged=FORGED, extra=pad_fields(20 * KIB))
        sent_all[subject] = expected
        c = RawSmtp(*MX, source=CLIENT, timeout=30)
        c.reply()
        c.cmd("EHLO client.stream.test")
        c.cmd("MAIL FROM:<a@stream.test>")
        c.cmd("RCPT TO:<bob@example.test>")
        c.cmd("DATA")
        c.send(stuffed(sent))
        delay = rng.uniform(0.0, 0.1)
        killer = threading.Timer(delay, mx.kill)
        c.send(end_of_data(sent))
        killer.start()
        try:
            code, _ = c.reply()
        except (OSError, ConnectionError):
            code = 0
        killer.join()
        c.close()
        if code == 250:
            acked[subject] = expected
        mx.kill()
        mx.start(wait_for=[MX])
    print("kill after the dot: %d of %d acknowledged before the kill" % (len(acked), rounds))
    for subject, expected in sent_all.items():
        got = received_with(home, subject, timeout=30 if subject in acked else 0.1)
        if subject in acked:
            t.true("kill after the dot: acknowledged %s delivered" % subject.decode(), bool(got))
        for d in got:
            t.true("kill after the dot: %s delivered whole" % subject.decode(), d.endswith(expected),
                   "(%d bytes)" % len(d))
    deadline = time.time() + 20
    while time.time() < deadline and spool_files(mx)["queue"]:
        time.sleep(0.1)
    files = spool_files(mx)
    t.eq("after all: incoming/ empty", files["incoming"], [])
    t.eq("after all: queue/ empty (everything delivered, no orphan)", files["queue"], [])


def main():
    t = Check()
    workdir = tempfile.mkdtemp(prefix="streaming-")
    privkey, pubkey = make_key(workdir)
    signer = Signer(privkey)
    records = [
        txt("sel._domainkey.stream.test", "v=DKIM1; k=rsa; p=" + pubkey),
        txt("stream.test", "v=spf1 ip4:%s -all" % CLIENT),
        txt("_dmarc.stream.test", "v=DMARC1; p=reject"),
        txt("reject.test", "v=spf1 ?all"),
        txt("_dmarc.reject.test", "v=DMARC1; p=reject"),
    ]
    try:
        dns = DnsServer(DNS_ADDR, free_port(DNS_ADDR), records=records, zones=["test."])
        dns.start()
    except DnsServerUnavailable as e:
        skip(str(e))
    config = CONFIG % (MX[0], MX[1], dns.endpoint, HOME[0], HOME[1], SINK[0], SINK[1])
    home = CaptureSink(*HOME).start()
    sink = SmtpSink(*SINK).start()
    try:
        with Mxgate(config, name="streaming") as mx:
            mx.start(wait_for=[MX])
            part_six_mib(t, mx, sink, signer)
            part_boundaries(t, home, signer)
            part_header_cap(t, mx, home, signer)
            part_bdat(t, home, signer)
            part_refusals(t, mx, home, signer)
            part_kill_streaming(t, mx, home, signer)
            part_kill_after_dot(t, mx, home, signer)
    finally:
        sink.stop()
        home.stop()
        dns.stop()
    t.done()


if __name__ == "__main__":
    main()
