"""Outbound delivery with a TLS policy (issue 3, SPEC §7) against real peers.

Peers (all on 127.0.10.x): a real unbound serving MX/A/TXT test zones, a
test CA (tls.ca_file), receiving MX hosts on port 25 that behave
differently (no STARTTLS, a valid certificate, a failing handshake, a
wrong-name certificate), and HTTPS servers on port 443 serving MTA-STS
policies (good certificate; wrong certificate; a redirect; a malformed
policy).

How mail reaches the outbound route: submission is not built yet, so each
case sends a message on the mx listener to home.test, whose home box (a
CaptureSink) rejects the recipient with 550; mxgate's DSN to the original
sender (user@<destination domain>) is then delivered over the internet
route, through the outbound policy under test. One destination domain per
case, so each delivery is identified by its recipient.

Cases: each level (none, opportunistic, encrypt, verify, verify+match) x
each MX behaviour; fallback plaintext-logged (delivered in plaintext with
tls.plaintext_fallback) and defer (not delivered); MTA-STS enforce (TLS
verified, never a non-matching MX, never plaintext), testing (delivers,
tls.policy mode testing would_fail true), policy fetch failures (wrong
certificate, redirect, malformed: mta_sts.failed, default level applies),
a cached policy surviving the policy server and its DNS going away,
tls.destination_downgrade after verified TLS, `mxgate sts`.
"""

import os
import smtplib
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib.dnsserver import DnsServer, DnsServerUnavailable  # noqa: E402
from lib.harness import CaptureSink, Check, Mxgate, skip  # noqa: E402

try:
    from lib.outbound_peers import MxHost, PolicyServer, TestCA  # noqa: E402
except ImportError as e:  # python3-cryptography missing
    skip("outbound peers need python3-cryptography: %s" % e)

MXGATE = ("127.0.10.1", 2525)
HOME = ("127.0.10.2", 2526)
DNS = ("127.0.10.53", 5353)
HOSTS = {  # MX behaviour -> (address, MX host name)
    "plain": ("127.0.10.11", "mx-plain.test"),
    "tls": ("127.0.10.12", "mx-tls.test"),
    "fail": ("127.0.10.13", "mx-fail.test"),
    "wrongname": ("127.0.10.14", "mx-wrong.test"),
}
POLICY_GOOD = "127.0.10.80"
POLICY_WRONGCERT = "127.0.10.81"
LEVELS = ["none", "opportunistic", "encrypt", "verify"]

CONFIG = """
hostname: gw.outbound.test
spool: {spool}
log: { format: json, file: {log} }
listeners:
  - { name: mx, role: mx, address: "127.0.10.1:2525", tls: none }
tls:
  ca_file: CAFILE
  outbound:
    default: opportunistic
    use_mta_sts: true
    fallback: FALLBACK
    policies:
POLICIES
dns: { resolver: "127.0.10.53:5353", dnssec: off }
domains:
  - name: home.test
    recipients: ["@home.test"]
    downstream: { address: "127.0.10.2:2526", tls: none }
queue: { retry: [1s], max_lifetime: 1h, delay_warning: 1h }
"""


def policy_text(mode, mx, max_age=86400):
    return "version: STSv1\r\nmode: %s\r\n%smax_age: %d\r\n" % (mode, "".join("mx: %s\r\n" % m for m in mx), max_age)


def main():
    if os.geteuid() != 0:
        skip("needs root for ports 25 and 443 on loopback")
    work = tempfile.mkdtemp(prefix="outbound-")
    ca = TestCA(work)
    certs = {
        "tls": ca.issue("mx-tls", ["mx-tls.test", "smtp.match.test"]),
        "wrongname": ca.issue("mx-wrong", ["somebody-else.test"]),
    }
    # Level matrix: domain "<level>-<behaviour>.test", MX -> that host.
    records = []
    policies = []
    for name, (addr, host) in HOSTS.items():
        records.append("%s. 1 A %s" % (host, addr))
    records.append("smtp.match.test. 1 A %s" % HOSTS["tls"][0])
    for level in LEVELS:
        for b, (_, host) in HOSTS.items():
            d = "%s-%s.test" % (level, b)
            records.append("%s. 1 MX 10 %s." % (d, host))
            policies.append("      %s: { level: %s }" % (d, level))
    records += ["match.test. 1 MX 10 smtp.match.test.", "nomatch.test. 1 MX 10 smtp.match.test."]
    policies += ["      match.test: { level: verify, match: [.match.test] }",
                 "      nomatch.test: { level: verify, match: [.elsewhere.test] }"]
    # Opportunistic default (no per-domain entry) for fallback and memory cases.
    records += ["fallback.test. 1 MX 10 mx-fail.test.", "memory.test. 1 MX 10 mx-tls.test.",
                "nullmx.test. 1 MX 0 .", "nomx.test. 1 A %s" % HOSTS["tls"][0]]
    # MTA-STS domains.
    sts = {
        # domain: (MX records, policy server address, route)
        "sts-good.test": (["10 mx-tls.test."], POLICY_GOOD, (200, "text/plain", policy_text("enforce", ["mx-tls.test"]), {})),
        "sts-skip.test": (["10 mx-plain.test.", "20 mx-tls.test."], POLICY_GOOD,
                          (200, "text/plain", policy_text("enforce", ["mx-plain.test", "mx-tls.test"]), {})),
        "sts-nomatch.test": (["10 mx-plain.test."], POLICY_GOOD,
                             (200, "text/plain", policy_text("enforce", ["mx-tls.test"]), {})),
        "sts-wrongname.test": (["10 mx-wrong.test."], POLICY_GOOD,
                               (200, "text/plain", policy_text("enforce", ["mx-wrong.test"]), {})),
        "sts-fail.test": (["10 mx-fail.test."], POLICY_GOOD,
                          (200, "text/plain", policy_text("enforce", ["mx-fail.test"]), {})),
        "sts-testing.test": (["10 mx-plain.test."], POLICY_GOOD,
                             (200, "text/plain; charset=utf-8", policy_text("testing", ["mx-tls.test"]), {})),
        "sts-wrongcert.test": (["10 mx-plain.test."], POLICY_WRONGCERT,
                               (200, "text/plain", policy_text("enforce", ["mx-tls.test"]), {})),
        "sts-redirect.test": (["10 mx-plain.test."], POLICY_GOOD,
                              (301, "text/html", "moved", {"Location": "https://mta-sts.sts-good.test/.well-known/mta-sts.txt"})),
        "sts-malformed.test": (["10 mx-plain.test."], POLICY_GOOD,
                               (200, "text/plain", "version: STSv1\r\nmode: enforce\r\nmx mx-tls.test\r\nmax_age: 60\r\n", {})),
        "sts-cache.test": (["10 mx-tls.test."], POLICY_GOOD, (200, "text/plain", policy_text("enforce", ["mx-tls.test"]), {})),
    }
    routes = {}
    policy_names = []
    for d, (mxs, server, route) in sts.items():
        # the sub-dns harness' zones: a TXT with the quotes it needs
        records.append('_mta-sts.%s. 1 TXT "v=STSv1; id=20261122a;"' % d)
        records.append("mta-sts.%s. 1 A %s" % (d, server))
        for m in mxs:
            records.append("%s. 1 MX %s" % (d, m))
        routes["mta-sts." + d] = route
        policy_names.append("mta-sts." + d)
    good_https = ca.issue("mta-sts", policy_names)
    wrong_https = ca.issue("wrong-https", ["not-mta-sts.test"])

    try:
        dns = DnsServer(DNS[0], DNS[1], records=records).start()
    except DnsServerUnavailable as e:
        skip(str(e))
    hosts = {}
    for b, (addr, name) in HOSTS.items():
        hosts[b] = MxHost(addr, b if b != "wrongname" else "tls", cert=certs.get(b), name=name).start()
    p_good = PolicyServer(POLICY_GOOD, good_https, routes).start()
    p_wrong = PolicyServer(POLICY_WRONGCERT, wrong_https, routes).start()
    home = CaptureSink(*HOME, rcpt_reply=lambda a: "550 5.1.1 no such user").start()
    t = Check()

    def config(fallback):
        return CONFIG.replace("CAFILE", ca.ca_file).replace("FALLBACK", fallback).replace("POLICIES", "\n".join(policies))

    def send(domain, local="user"):
        s = smtplib.SMTP(*MXGATE, timeout=20)
        s.sendmail("%s@%s" % (local, domain), ["nobody@home.test"],
                   "From: %s@%s\r\nTo: nobody@home.test\r\nSubject: outbound %s\r\n\r\nbody\r\n" % (local, domain, domain))
        s.quit()

    def delivered_to(domain, local="user"):
        out = []
        for b, h in hosts.items():
            for m in h.received():
                if "%s@%s" % (local, domain) in m["rcpts"]:
                    out.append((b, m["tls"]))
        return out

    def events_soon(mx, name, pred, timeout=15):
        """Events that match, waiting for them: tls.policy is logged after
        the MX host has already recorded the message (after the 250)."""
        end = time.time() + timeout
        while True:
            got = [e for e in mx.events(name) if pred(e)]
            if got or time.time() > end:
                return got
            time.sleep(0.1)

    def wait_outcome(mx, domain, local="user", timeout=45):
        """'delivered' with [(host, tls)], or 'deferred'."""
        rcpt = "%s@%s" % (local, domain)
        end = time.time() + timeout
        while time.time() < end:
            got = delivered_to(domain, local)
            if got:
                return "delivered", got
            if [e for e in mx.events("delivery.deferred") if rcpt in e.get("recipients", [])]:
                return "deferred", []
            if [e for e in mx.events("delivery.bounced") if rcpt in e.get("recipients", [])]:
                return "bounced", []
            time.sleep(0.1)
        return "timeout", []

    try:
        with Mxgate(config("plaintext-logged"), name="outbound") as mx:
            mx.start(wait_for=[MXGATE])
            # --- level x behaviour -------------------------------------
            expect = {
                # level: {behaviour: (outcome, tls)}
                "none": {"plain": ("delivered", False), "tls": ("delivered", False),
                         "fail": ("delivered", False), "wrongname": ("delivered", False)},
                "opportunistic": {"plain": ("delivered", False), "tls": ("delivered", True),
                                  "fail": ("delivered", False), "wrongname": ("delivered", True)},
                "encrypt": {"plain": ("deferred", None), "tls": ("delivered", True),
                            "fail": ("deferred", None), "wrongname": ("delivered", True)},
                "verify": {"plain": ("deferred", None), "tls": ("delivered", True),
                           "fail": ("deferred", None), "wrongname": ("deferred", None)},
            }
            for level in LEVELS:
                for b in HOSTS:
                    send("%s-%s.test" % (level, b))
            for level in LEVELS:
                for b in HOSTS:
                    d = "%s-%s.test" % (level, b)
                    outcome, got = wait_outcome(mx, d)
                    want, want_tls = expect[level][b]
                    t.eq("%s: outcome" % d, outcome, want)
                    if want == "delivered" and got:
                        t.eq("%s: over TLS" % d, got[0][1], want_tls)
                        t.eq("%s: to its MX" % d, got[0][0], b)
                    pol = events_soon(mx, "tls.policy", lambda e: e.get("domain") == d)
                    t.true("%s: tls.policy level %s source config" % (d, level),
                           any(e.get("level") == level and e.get("source") == "config" for e in pol), pol[:1])
            fb = events_soon(mx, "tls.plaintext_fallback", lambda e: e.get("domain") == "opportunistic-fail.test")
            t.true("opportunistic handshake failure: tls.plaintext_fallback with mx, error, queue_id",
                   fb and fb[0].get("mx", "").startswith("mx-fail.test") and fb[0].get("error") and fb[0].get("queue_id"), fb)
            t.eq("no fallback event under encrypt", [e for e in mx.events("tls.plaintext_fallback")
                                                    if e.get("domain") in ("encrypt-fail.test", "verify-fail.test")], [])
            for d, want in (("match.test", "delivered"), ("nomatch.test", "deferred")):
                send(d)
                outcome, got = wait_outcome(mx, d)
                t.eq("verify with match list: %s" % d, outcome, want)
            # null MX bounces at once; no MX -> the domain's own address
            send("nullmx.test")
            t.eq("null MX (RFC 7505) bounces", wait_outcome(mx, "nullmx.test")[0], "bounced")
            send("nomx.test")
            t.eq("no MX: A record fallback", wait_outcome(mx, "nomx.test")[0], "delivered")

            # --- MTA-STS ------------------------------------------------
            send("sts-good.test")
            outcome, got = wait_outcome(mx, "sts-good.test")
            t.eq("sts enforce, matching MX with a valid certificate: delivered over TLS",
                 (outcome, got[:1]), ("delivered", [("tls", True)]))
            f = mx.events("mta_sts.fetched")
            t.true("mta_sts.fetched for sts-good.test with mode enforce",
                   any(e.get("domain") == "sts-good.test" and e.get("mode") == "enforce" for e in f), f)
            pol = events_soon(mx, "tls.policy", lambda e: e.get("domain") == "sts-good.test")
            t.true("tls.policy level mta-sts source mta-sts mode enforce",
                   any(e.get("level") == "mta-sts" and e.get("source") == "mta-sts" and e.get("mode") == "enforce"
                       for e in pol), pol)
            send("sts-skip.test")
            outcome, got = wait_outcome(mx, "sts-skip.test")
            t.eq("sts enforce: the matching MX 10 without STARTTLS is not used in plaintext; MX 20 gets it over TLS",
                 (outcome, got), ("delivered", [("tls", True)]))
            for d in ("sts-nomatch.test", "sts-wrongname.test", "sts-fail.test"):
                send(d)
                t.eq("sts enforce: %s deferred" % d, wait_outcome(mx, d)[0], "deferred")
            time.sleep(2.5)  # a few retries later
            for d in ("sts-nomatch.test", "sts-wrongname.test", "sts-fail.test"):
                t.eq("sts enforce: %s never delivered (retries included)" % d, delivered_to(d), [])
            send("sts-testing.test")
            outcome, got = wait_outcome(mx, "sts-testing.test")
            t.eq("sts testing: delivered to the non-matching plaintext MX", (outcome, got), ("delivered", [("plain", False)]))
            pol = events_soon(mx, "tls.policy", lambda e: e.get("domain") == "sts-testing.test")
            t.true("sts testing: tls.policy mode testing would_fail true",
                   any(e.get("mode") == "testing" and e.get("would_fail") is True for e in pol), pol)
            # The redirect points at sts-good.test's policy host: following it
            # would add a request there. (sts-good.test's own policy may have
            # been fetched more than once above: the inbound downgrade check
            # and the delivery of its DSN can fetch it concurrently.)
            good_before = len([r for r in p_good.requests if r[0] == "mta-sts.sts-good.test"])
            for d, why in (("sts-wrongcert.test", "certificate"), ("sts-redirect.test", "redirect"),
                           ("sts-malformed.test", "invalid policy")):
                send(d)
                outcome, got = wait_outcome(mx, d)
                t.eq("%s: fetch fails, default level applies (delivered)" % d, outcome, "delivered")
                fl = events_soon(mx, "mta_sts.failed", lambda e, d=d: e.get("domain") == d)
                t.true("%s: mta_sts.failed names the %s" % (d, why), fl and why in fl[0].get("error", ""), fl)
            t.true("sts-good.test's policy was fetched", good_before >= 1, p_good.requests)
            t.eq("a redirect is never followed",
                 len([r for r in p_good.requests if r[0] == "mta-sts.sts-good.test"]), good_before)

            # cached policy survives policy server + DNS going away (and an
            # attacker's MX pointing to a plaintext host)
            send("sts-cache.test", "first")
            t.eq("sts cache: first message over TLS", wait_outcome(mx, "sts-cache.test", "first"),
                 ("delivered", [("tls", True)]))
            p_good.stop()
            dns.remove_name("_mta-sts.sts-cache.test")
            dns.remove_name("mta-sts.sts-cache.test")
            dns.remove_name("sts-cache.test")
            dns.add_record("sts-cache.test. 1 MX 10 mx-plain.test.")
            time.sleep(2)  # TTL 1
            send("sts-cache.test", "second")
            t.eq("sts cache: with DNS and HTTPS gone, the cached enforce policy still refuses the plaintext MX",
                 wait_outcome(mx, "sts-cache.test", "second")[0], "deferred")
            time.sleep(2)
            t.eq("sts cache: never delivered to the attacker's MX", delivered_to("sts-cache.test", "second"), [])
            r = mx.run("sts", "sts-cache.test")
            t.true("mxgate sts shows the cached policy", r.returncode == 1 and "cache: id=20261122a" in r.stdout
                   and "mode: enforce" in r.stdout, r.stdout + r.stderr)

            # best TLS memory: verified before, plaintext now
            send("memory.test", "first")
            t.eq("memory: first delivery verified TLS", wait_outcome(mx, "memory.test", "first"),
                 ("delivered", [("tls", True)]))
            dns.remove_name("memory.test")
            dns.add_record("memory.test. 1 MX 10 mx-plain.test.")
            time.sleep(2)
            send("memory.test", "second")
            t.eq("memory: second delivery in plaintext", wait_outcome(mx, "memory.test", "second"),
                 ("delivered", [("plain", False)]))
            dg = mx.wait_event("tls.destination_downgrade", lambda e: e.get("domain") == "memory.test")
            t.true("tls.destination_downgrade names mx and plaintext",
                   dg[0].get("mx", "").startswith("mx-plain.test") and dg[0].get("tls") == "plaintext", dg)

        # --- fallback: defer -------------------------------------------
        p_good.start()
        with Mxgate(config("defer"), name="outbound-defer") as mx:
            mx.start(wait_for=[MXGATE])
            send("fallback.test", "deferme")
            t.eq("fallback defer: opportunistic handshake failure is deferred",
                 wait_outcome(mx, "fallback.test", "deferme")[0], "deferred")
            time.sleep(2)
            t.eq("fallback defer: never delivered", delivered_to("fallback.test", "deferme"), [])
            t.eq("fallback defer: no tls.plaintext_fallback", mx.events("tls.plaintext_fallback"), [])
            r = mx.run("sts", "sts-good.test")
            t.true("mxgate sts sts-good.test: exit 0, valid policy",
                   r.returncode == 0 and "valid" in r.stdout and "mx: mx-tls.test" in r.stdout, r.stdout + r.stderr)
        # fallback plaintext-logged, default level (no per-domain entry)
        with Mxgate(config("plaintext-logged"), name="outbound-fallback") as mx:
            mx.start(wait_for=[MXGATE])
            send("fallback.test", "fallback")
            t.eq("fallback plaintext-logged: delivered in plaintext",
                 wait_outcome(mx, "fallback.test", "fallback"), ("delivered", [("fail", False)]))
            fb = mx.wait_event("tls.plaintext_fallback", lambda e: e.get("domain") == "fallback.test")
            t.true("fallback event has error and queue id", fb[0].get("error") and fb[0].get("queue_id"), fb)
    finally:
        home.stop()
        for h in hosts.values():
            h.stop()
        p_good.stop()
        p_wrong.stop()
        dns.stop()
    t.done()


if __name__ == "__main__":
    main()
