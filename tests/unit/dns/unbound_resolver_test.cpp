// tests/unit/dns/unbound_resolver_test.cpp — the real UnboundResolver
// (relay/core/unbound_resolver.cpp) against a real unbound on loopback,
// started through the Python harness tests/integration/lib/dnsserver.py.
// Skips with a WARN when unbound (or python3) is not installed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "relay/core/resolver.hpp"

using namespace mxgate::core;
namespace asio = boost::asio;
namespace conf = mxgate::conf;
using namespace std::chrono_literals;

namespace {

// A harness process; destroying it closes its stdin, which stops unbound.
class TestDns {
public:
    explicit TestDns(const std::string& address, std::vector<std::string> args) : address_(address) {
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) return;
        pid_ = fork();
        if (pid_ == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            close(in[1]);
            close(out[0]);
            std::vector<std::string> argv = {"python3", std::string(MXGATE_SOURCE_DIR) + "/tests/integration/lib/dnsserver.py",
                                             "--address", address};
            argv.insert(argv.end(), args.begin(), args.end());
            std::vector<char*> cargv;
            for (auto& a : argv) cargv.push_back(a.data());
            cargv.push_back(nullptr);
            execvp("python3", cargv.data());
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        stdin_ = in[1];
        FILE* f = fdopen(out[0], "r");
        char line[4096] = {};
        if (f && fgets(line, sizeof line, f)) {
            std::istringstream words(line);
            std::string word;
            words >> word;
            if (word == "READY") {
                words >> port_;
                while (words >> word) anchors_.push_back(word);
            } else {
                skip_ = line;
            }
        }
        if (f) fclose(f);
    }
    ~TestDns() {
        if (stdin_ >= 0) close(stdin_);
        if (pid_ > 0) waitpid(pid_, nullptr, 0);
    }
    bool ready() const { return port_ != 0; }
    const std::string& skip_reason() const { return skip_; }
    conf::DnsConfig config(conf::DnssecMode mode) const {
        conf::DnsConfig c;
        c.resolver = conf::HostPort{address_, port_};
        c.dnssec = mode;
        return c;
    }
    const std::vector<std::string>& anchors() const { return anchors_; }

private:
    std::string address_;
    pid_t pid_ = -1;
    int stdin_ = -1;
    uint16_t port_ = 0;
    std::string skip_;
    std::vector<std::string> anchors_;
};

bool have_unbound() { return access("/usr/sbin/unbound", X_OK) == 0; }

// Runs `body` as a coroutine on a fresh io_context until everything
// (including the resolver's shutdown) is done; rethrows its exception.
void run(std::function<asio::awaitable<void>(asio::io_context&)> body) {
    asio::io_context io;
    std::exception_ptr err;
    asio::co_spawn(io, body(io), [&](std::exception_ptr e) { err = e; });
    io.run();
    if (err) std::rethrow_exception(err);
}

const std::vector<std::string> kRecords = {
    "--record", "example.test. MX 20 mx2.example.test.",
    "--record", "example.test. MX 10 MX1.example.test.",
    "--record", "mx1.example.test. A 127.0.0.2",
    "--record", "mx1.example.test. AAAA 2001:db8::2",
    "--record", "example.test. TXT \"v=spf1 \" \"ip4:192.0.2.0/24 \" \"-all\"",
    "--record", "nullmx.test. MX 0 .",
    "--record", "_25._tcp.mx1.example.test. TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "--record", "secure.test. MX 10 mx.secure.test.",
    "--record", "mx.secure.test. A 127.0.0.3",
    "--servfail", "broken.test.",
    "--refused", "refused.test.",
    "--signed-zone", "secure.test.",
};

}  // namespace

TEST_CASE("UnboundResolver against a real unbound", "[dns][unbound]") {
    if (!have_unbound()) {
        WARN("unbound is not installed (contrib/install-deps.sh): skipping the real-resolver tests");
        return;
    }
    TestDns dns("127.0.0.61", kRecords);
    if (!dns.ready()) {
        WARN("test DNS server did not start: " << dns.skip_reason());
        FAIL("harness failed");  // unbound is installed: a harness failure is a failure
    }
    UnboundOptions opts;
    opts.timeout = 3s;

    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto r = make_unbound_resolver(io.get_executor(), dns.config(conf::DnssecMode::off), opts);

        auto mx = co_await lookup_mx(*r, "Example.TEST");
        REQUIRE(mx.status == DnsStatus::ok);
        REQUIRE(mx.records.size() == 2);
        CHECK(mx.records[0].preference == 10);
        CHECK(mx.records[0].host == "mx1.example.test");
        CHECK(mx.records[1].host == "mx2.example.test");
        CHECK_FALSE(mx.authenticated);

        auto a = co_await lookup_a(*r, "mx1.example.test.");
        CHECK(a.status == DnsStatus::ok);
        CHECK(a.records == std::vector<std::string>{"127.0.0.2"});

        auto aaaa = co_await lookup_aaaa(*r, "mx1.example.test");
        INFO("aaaa status " << int(aaaa.status) << " " << aaaa.error);
        CHECK(aaaa.records == std::vector<std::string>{"2001:db8::2"});

        auto txt = co_await lookup_txt(*r, "example.test");
        CHECK(txt.records == std::vector<std::string>{"v=spf1 ip4:192.0.2.0/24 -all"});

        auto tlsa = co_await lookup_tlsa(*r, "_25._tcp.mx1.example.test");
        REQUIRE(tlsa.records.size() == 1);
        CHECK(tlsa.records[0].usage == 3);
        CHECK(tlsa.records[0].data.size() == 32);

        auto null_mx = co_await lookup_mx(*r, "nullmx.test");
        REQUIRE(null_mx.records.size() == 1);
        CHECK(null_mx.records[0].host.empty());

        CHECK((co_await lookup_a(*r, "nope.example.test")).status == DnsStatus::nxdomain);
        CHECK((co_await lookup_aaaa(*r, "example.test")).status == DnsStatus::nodata);

        auto sf = co_await lookup_mx(*r, "broken.test");
        CHECK(sf.status == DnsStatus::temp_fail);
        CHECK_THAT(sf.error, Catch::Contains("SERVFAIL"));
        CHECK((co_await lookup_a(*r, "x.refused.test")).status == DnsStatus::temp_fail);

        // A name libunbound cannot even send (empty label) is temp_fail.
        CHECK((co_await r->query("a..test", rrtype::A)).status == DnsStatus::temp_fail);

        // DNSSEC off: even the signed zone is not authenticated.
        auto sec = co_await lookup_mx(*r, "secure.test");
        CHECK(sec.status == DnsStatus::ok);
        CHECK_FALSE(sec.authenticated);
    });
}

TEST_CASE("UnboundResolver runs many queries at once", "[dns][unbound]") {
    if (!have_unbound()) {
        WARN("unbound is not installed: skipping");
        return;
    }
    TestDns dns("127.0.0.62", {"--record", "many.test. A 127.0.0.7"});
    REQUIRE(dns.ready());
    asio::io_context io;
    auto r = make_unbound_resolver(io.get_executor(), dns.config(conf::DnssecMode::off), {});
    int ok = 0, nx = 0;
    for (int i = 0; i < 40; ++i) {
        asio::co_spawn(io, [&, i]() -> asio::awaitable<void> {
            std::string name = i % 2 ? std::string("many.test") : "n" + std::to_string(i) + ".many.test";
            auto res = co_await lookup_a(*r, name);
            if (res.status == DnsStatus::ok) ++ok;
            if (res.status == DnsStatus::nxdomain) ++nx;
        }, asio::detached);
    }
    io.run();
    CHECK(ok == 20);
    CHECK(nx == 20);
    r.reset();
    io.restart();
    io.run();
}

TEST_CASE("UnboundResolver: dnssec trust-ad and validate", "[dns][unbound][dnssec]") {
    if (!have_unbound() || access("/usr/bin/ldns-signzone", X_OK) != 0) {
        WARN("unbound or ldnsutils missing: skipping DNSSEC tests");
        return;
    }
    TestDns dns("127.0.0.63", kRecords);
    REQUIRE(dns.ready());
    REQUIRE(dns.anchors().size() == 1);
    UnboundOptions opts;
    opts.timeout = 3s;

    SECTION("trust-ad: authenticated iff the upstream validating resolver sets AD") {
        run([&](asio::io_context& io) -> asio::awaitable<void> {
            auto r = make_unbound_resolver(io.get_executor(), dns.config(conf::DnssecMode::trust_ad), opts);
            auto sec = co_await lookup_mx(*r, "secure.test");
            CHECK(sec.status == DnsStatus::ok);
            CHECK(sec.authenticated);
            auto nx = co_await lookup_a(*r, "nope.secure.test");
            CHECK(nx.status == DnsStatus::nxdomain);
            CHECK(nx.authenticated);  // authenticated denial (NSEC3)
            auto plain = co_await lookup_mx(*r, "example.test");
            CHECK(plain.status == DnsStatus::ok);
            CHECK_FALSE(plain.authenticated);
        });
    }
    SECTION("validate: libunbound validates with the zone's trust anchor") {
        opts.trust_anchor_file = dns.anchors()[0];
        run([&](asio::io_context& io) -> asio::awaitable<void> {
            auto r = make_unbound_resolver(io.get_executor(), dns.config(conf::DnssecMode::validate), opts);
            auto sec = co_await lookup_mx(*r, "secure.test");
            CHECK(sec.status == DnsStatus::ok);
            CHECK(sec.authenticated);
            CHECK(sec.records.size() == 1);
        });
    }
}

TEST_CASE("UnboundResolver: a dead server is temp_fail within the timeout", "[dns][unbound]") {
    // Port 9 on 127.0.0.64: nothing listens (ICMP port unreachable), and a
    // blackholed address is covered by our own deadline either way.
    conf::DnsConfig cfg;
    cfg.resolver = conf::HostPort{"127.0.0.64", 9};
    cfg.dnssec = conf::DnssecMode::off;
    UnboundOptions opts;
    opts.timeout = 2s;
    const auto t0 = std::chrono::steady_clock::now();
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto r = make_unbound_resolver(io.get_executor(), cfg, opts);
        auto res = co_await lookup_mx(*r, "example.test");
        CHECK(res.status == DnsStatus::temp_fail);
        CHECK_FALSE(res.error.empty());
    });
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    CHECK(elapsed < 4s);
}

TEST_CASE("UnboundResolver: destroying it completes queries in flight", "[dns][unbound]") {
    // A UDP socket that never answers: the query stays in flight.
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(0x7f000041);  // 127.0.0.65
    REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t len = sizeof sa;
    getsockname(s, reinterpret_cast<sockaddr*>(&sa), &len);
    conf::DnsConfig cfg;
    cfg.resolver = conf::HostPort{"127.0.0.65", ntohs(sa.sin_port)};
    cfg.dnssec = conf::DnssecMode::off;
    UnboundOptions opts;
    opts.timeout = 30s;

    asio::io_context io;
    auto r = make_unbound_resolver(io.get_executor(), cfg, opts);
    std::optional<DnsResult<MxRecord>> got;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { got = co_await lookup_mx(*r, "hang.test"); }, asio::detached);
    asio::steady_timer kill(io, 300ms);
    kill.async_wait([&](boost::system::error_code) { r.reset(); });
    const auto t0 = std::chrono::steady_clock::now();
    io.run();
    close(s);
    REQUIRE(got);
    CHECK(got->status == DnsStatus::temp_fail);
    CHECK_THAT(got->error, Catch::Contains("shut down"));
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

TEST_CASE("make_unbound_resolver rejects a resolver that is not an IP", "[dns][unbound]") {
    asio::io_context io;
    conf::DnsConfig cfg;
    cfg.resolver = conf::HostPort{"dns.example", 53};
    CHECK_THROWS_AS(make_unbound_resolver(io.get_executor(), cfg), std::runtime_error);
}

TEST_CASE("UnboundResolver reuses answers within their TTL (answer_cache.hpp)", "[dns][unbound][answer_cache]") {
    if (!have_unbound() || access("/usr/bin/ldns-signzone", X_OK) != 0) {
        WARN("unbound or ldnsutils missing: skipping");
        return;
    }
    auto dns = std::make_unique<TestDns>("127.0.0.66", kRecords);
    REQUIRE(dns->ready());
    UnboundOptions opts;
    opts.timeout = 2s;
    const conf::DnsConfig cfg = dns->config(conf::DnssecMode::trust_ad);
    run([&](asio::io_context& io) -> asio::awaitable<void> {
        auto r = make_unbound_resolver(io.get_executor(), cfg, opts);
        CHECK_FALSE(r->cached("example.test", rrtype::TXT));  // nothing asked yet
        DnsReply first = co_await r->query("example.test", rrtype::TXT);
        REQUIRE(first.status == DnsStatus::ok);
        CHECK(first.ttl > 0);
        CHECK_FALSE(first.authenticated);
        DnsReply sec = co_await r->query("secure.test", rrtype::MX);
        REQUIRE(sec.status == DnsStatus::ok);
        CHECK(sec.authenticated);  // trust-ad: the probe's verdict, kept with the answer
        DnsReply fail = co_await r->query("broken.test", rrtype::MX);
        CHECK(fail.status == DnsStatus::temp_fail);

        // Synchronously, from any thread, with the TTL left.
        std::optional<DnsReply> hit = r->cached("EXAMPLE.test.", rrtype::TXT);
        REQUIRE(hit);
        CHECK(hit->rdata == first.rdata);
        CHECK(hit->ttl <= first.ttl);
        std::optional<DnsReply> sec_hit = r->cached("secure.test", rrtype::MX);
        REQUIRE(sec_hit);
        CHECK(sec_hit->authenticated);
        CHECK_FALSE(r->cached("broken.test", rrtype::MX));  // a temporary failure is asked again
        CHECK_FALSE(r->cached("example.test", rrtype::MX));  // another type was never asked

        // The server gone: a kept answer still comes (as from libunbound's
        // own cache), a failure still fails.
        dns.reset();
        DnsReply again = co_await r->query("example.test", rrtype::TXT);
        CHECK(again.status == DnsStatus::ok);
        CHECK(again.rdata == first.rdata);
        DnsReply fail_again = co_await r->query("broken.test", rrtype::MX);
        CHECK(fail_again.status == DnsStatus::temp_fail);
    });
}
