// Unit tests for tlspolicy/inbound.hpp: SPEC §7's "same client" rule, the
// downgrade tracker (window, persistence, bounds), require_tls matching, the
// MTA-STS record check and the dry-run verdicts.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "tlspolicy/inbound.hpp"

using namespace mxgate;
using namespace mxgate::tlspolicy;

namespace {

struct TempSpool {
    std::filesystem::path path;
    TempSpool() {
        path = std::filesystem::temp_directory_path() / ("mxgate-inbound-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(path);
    }
    ~TempSpool() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

HandshakeFailure failure(std::string ip, std::string helo, int64_t at, std::string error = "unsupported protocol") {
    HandshakeFailure f;
    f.at = at;
    f.client = std::move(ip);
    f.helo = std::move(helo);
    f.error = std::move(error);
    f.listener = "mx";
    f.offered_versions = "<=TLSv1.1";
    return f;
}

}  // namespace

TEST_CASE("client_network is the /24 or /64", "[tlspolicy][downgrade]") {
    CHECK(client_network("192.0.2.77") == "192.0.2.0/24");
    CHECK(client_network("::ffff:192.0.2.77") == "192.0.2.0/24");
    CHECK(client_network("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
    CHECK(client_network("not an address").empty());
    CHECK(client_network("").empty());
}

TEST_CASE("same client: same IP, or same HELO from the same /24 or /64", "[tlspolicy][downgrade]") {
    struct Row {
        const char *ip_a, *helo_a, *ip_b, *helo_b;
        bool same;
    };
    const Row rows[] = {
        {"192.0.2.1", "mx.a.example", "192.0.2.1", "other.example", true},   // same IP, HELO irrelevant
        {"192.0.2.1", "", "192.0.2.1", "", true},                            // same IP, no HELO
        {"192.0.2.1", "mx.a.example", "::ffff:192.0.2.1", "x", true},        // mapped form is the same IP
        {"192.0.2.1", "mx.a.example", "192.0.2.200", "mx.a.example", true},  // same /24, same HELO
        {"192.0.2.1", "mx.a.example", "192.0.2.200", "MX.A.Example", true},  // HELO case-insensitive
        {"192.0.2.1", "mx.a.example", "192.0.3.1", "mx.a.example", false},   // other /24
        {"192.0.2.1", "mx.a.example", "192.0.2.2", "mx.b.example", false},   // same /24, other HELO
        {"192.0.2.1", "", "192.0.2.2", "", false},                           // empty HELOs never match
        {"2001:db8::1", "mx6.example", "2001:db8::ffff:1", "mx6.example", true},  // same /64
        {"2001:db8::1", "mx6.example", "2001:db8:0:1::1", "mx6.example", false},  // other /64
        {"2001:db8::1", "mx6.example", "192.0.2.1", "mx6.example", false},
        {"bogus", "h", "bogus", "h", false},
    };
    for (const Row& r : rows) {
        INFO(r.ip_a << " " << r.helo_a << " vs " << r.ip_b << " " << r.helo_b);
        CHECK(same_client(r.ip_a, r.helo_a, r.ip_b, r.helo_b) == r.same);
        CHECK(same_client(r.ip_b, r.helo_b, r.ip_a, r.helo_a) == r.same);
    }
}

TEST_CASE("tracker matches within 24 h only, newest failure first", "[tlspolicy][downgrade]") {
    DowngradeTracker t(nullptr);
    const int64_t now = 1'800'000'000;
    t.record(failure("192.0.2.1", "mx.a.example", now - 3600, "old error"));
    t.record(failure("192.0.2.1", "mx.a.example", now - 60, "new error"));  // same key: replaces
    t.record(failure("192.0.2.9", "other.example", now - 100, "other"));
    CHECK(t.size() == 2);
    auto m = t.match("192.0.2.1", "", now);
    REQUIRE(m);
    CHECK(m->error == "new error");
    // Same HELO, neighbour address.
    m = t.match("192.0.2.50", "mx.a.example", now);
    REQUIRE(m);
    CHECK(m->client == "192.0.2.1");
    // Different address, different HELO: nothing.
    CHECK_FALSE(t.match("192.0.2.50", "mx.c.example", now));
    CHECK_FALSE(t.match("198.51.100.1", "mx.a.example", now));
    // 24 h later the record has expired.
    CHECK_FALSE(t.match("192.0.2.1", "", now - 60 + 24 * 3600 + 1));
    CHECK(t.match("192.0.2.1", "", now - 60 + 24 * 3600));
}

TEST_CASE("tracker state survives a restart through the StateStore", "[tlspolicy][downgrade]") {
    TempSpool spool;
    const int64_t now = 1'800'000'000;
    {
        DowngradeTracker t(std::make_shared<core::StateStore>(spool.path, "tls_failures"));
        t.persist(t.record(failure("192.0.2.1", "mx.a.example", now - 10)));
        t.persist(t.record(failure("192.0.2.2", "mx.b.example", now - 25 * 3600)));  // already expired
    }
    DowngradeTracker again(std::make_shared<core::StateStore>(spool.path, "tls_failures"));
    CHECK(again.load(now) == 1);
    const auto m = again.match("192.0.2.1", "", now);
    REQUIRE(m);
    CHECK(m->helo == "mx.a.example");
    CHECK(m->error == "unsupported protocol");
    CHECK(m->offered_versions == "<=TLSv1.1");
    // The expired record was removed from the store too.
    int files = 0;
    core::StateStore(spool.path, "tls_failures").for_each([&](const std::string&, const std::string&) { ++files; });
    CHECK(files == 1);
}

TEST_CASE("tracker: record() is memory only, persist() writes and drops records", "[tlspolicy][downgrade]") {
    TempSpool spool;
    const int64_t now = 1'800'000'000;
    auto store = std::make_shared<core::StateStore>(spool.path, "tls_failures");
    DowngradeTracker t(store, std::chrono::hours(24), 2);
    auto count = [&] {
        int n = 0;
        store->for_each([&](const std::string&, const std::string&) { ++n; });
        return n;
    };
    TrackerWrites w1 = t.record(failure("192.0.2.1", "a.example", now - 30));
    CHECK(count() == 0);  // nothing on disk until persist() (the session runs it on the blocking pool)
    CHECK(w1.key == "192.0.2.1|a.example");
    CHECK(w1.erased.empty());
    t.persist(w1);
    CHECK(count() == 1);
    REQUIRE(store->get(w1.key));
    CHECK(DowngradeTracker::decode(*store->get(w1.key))->client == "192.0.2.1");
    t.persist(t.record(failure("192.0.2.2", "b.example", now - 20)));
    // A third record goes over the bound: the oldest is dropped, in memory and on disk.
    TrackerWrites w3 = t.record(failure("192.0.2.3", "c.example", now - 10));
    REQUIRE(w3.erased.size() == 1);
    CHECK(w3.erased[0] == "192.0.2.1|a.example");
    t.persist(w3);
    CHECK(count() == 2);
    CHECK_FALSE(store->get("192.0.2.1|a.example"));
    DowngradeTracker again(store);
    CHECK(again.load(now) == 2);
    // Not an address: nothing to write.
    CHECK(t.record(failure("not-an-ip", "x", now)).empty());
    // Memory only: no writes at all.
    DowngradeTracker mem(nullptr);
    CHECK(mem.record(failure("192.0.2.9", "", now)).empty());
}

TEST_CASE("tracker records round-trip and reject garbage", "[tlspolicy][downgrade]") {
    HandshakeFailure f = failure("2001:db8::5", "h\nx", 42, "bad\r\nerror");
    const auto back = DowngradeTracker::decode(DowngradeTracker::encode(f));
    REQUIRE(back);
    CHECK(back->client == "2001:db8::5");
    CHECK(back->helo == "h x");  // newlines cannot split a record
    CHECK(back->error == "bad  error");
    CHECK_FALSE(DowngradeTracker::decode(""));
    CHECK_FALSE(DowngradeTracker::decode("v1\nnot a number\n"));
    CHECK_FALSE(DowngradeTracker::decode("v2\n1\na\nb\nc\nd\ne\nf\n"));
    CHECK_FALSE(DowngradeTracker::decode("v1\n1\nnot-an-ip\nb\nc\nd\ne\nf\n"));
}

TEST_CASE("tracker is bounded: the oldest records go first", "[tlspolicy][downgrade]") {
    DowngradeTracker t(nullptr, std::chrono::hours(24), 3);
    const int64_t now = 1'800'000'000;
    for (int i = 0; i < 5; ++i) t.record(failure("192.0.2." + std::to_string(i + 1), "", now - 100 + i));
    CHECK(t.size() == 3);
    CHECK_FALSE(t.match("192.0.2.1", "", now));
    CHECK_FALSE(t.match("192.0.2.2", "", now));
    CHECK(t.match("192.0.2.5", "", now));
}

TEST_CASE("require_tls: sender domains (and subdomains) and client networks", "[tlspolicy][require_tls]") {
    conf::InboundTls in;
    in.require_tls_domains = {"bank.example"};
    conf::Network n;
    n.text = "198.51.100.0/24";
    n.addr = {198, 51, 100, 0};
    n.prefix = 24;
    in.require_tls_networks = {n};
    CHECK(require_tls_match(in, "192.0.2.1", "a@bank.example") == "sender domain bank.example");
    CHECK(require_tls_match(in, "192.0.2.1", "a@Mail.Bank.Example") == "sender domain bank.example");
    CHECK(require_tls_match(in, "192.0.2.1", "a@notbank.example").empty());
    CHECK(require_tls_match(in, "192.0.2.1", "").empty());  // null sender: only networks apply
    CHECK(require_tls_match(in, "198.51.100.7", "") == "client network 198.51.100.0/24");
    CHECK(require_tls_match(in, "::ffff:198.51.100.7", "x@y.example") == "client network 198.51.100.0/24");
    CHECK(require_tls_match(in, "198.51.101.7", "x@y.example").empty());
}

TEST_CASE("MTA-STS TXT record: v=STSv1 first and an id", "[tlspolicy][posture]") {
    CHECK(mta_sts_record_id("v=STSv1; id=20160831085700Z;") == std::optional<std::string>("20160831085700Z"));
    CHECK(mta_sts_record_id("v=STSv1;id=abc") == std::optional<std::string>("abc"));
    CHECK_FALSE(mta_sts_record_id("id=abc; v=STSv1"));
    CHECK_FALSE(mta_sts_record_id("v=STSv1;"));  // no id
    CHECK_FALSE(mta_sts_record_id("v=spf1 -all"));
    CHECK_FALSE(mta_sts_record_id("v=STSv1; id=has space"));
    CHECK_FALSE(mta_sts_record_id("v=STSv1; id=" + std::string(33, 'a')));
    CHECK_FALSE(mta_sts_record_id(";v=STSv1; id=ST1"));         // fuzzing: must start with the version
    CHECK_FALSE(mta_sts_record_id("v=STSv1; id=ST1; id=S2"));   // one id only
}

TEST_CASE("dry run: version and cipher against the stricter profile", "[tlspolicy][dry_run]") {
    std::string err;
    conf::TlsProfile strict;
    strict.name = conf::TlsProfileName::strict;
    auto d = DryRun::make(strict, err);
    REQUIRE(d);
    CHECK(d->name() == "strict");
    CHECK(d->would_refuse("TLSv1.3", "TLS_AES_256_GCM_SHA384").empty());
    CHECK(d->would_refuse("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384") ==
          "TLSv1.2 is below the dry-run profile's minimum TLSv1.3");

    conf::TlsProfile modern;
    modern.name = conf::TlsProfileName::modern;
    d = DryRun::make(modern, err);
    REQUIRE(d);
    CHECK(d->would_refuse("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384").empty());
    CHECK(d->would_refuse("TLSv1.2", "ECDHE-RSA-AES256-SHA") == "cipher ECDHE-RSA-AES256-SHA is not in the dry-run profile");
    CHECK_FALSE(d->would_refuse("TLSv1", "AES128-SHA").empty());

    modern.ciphersuites = "TLS_AES_256_GCM_SHA384";
    d = DryRun::make(modern, err);
    REQUIRE(d);
    CHECK(d->name() == "modern+overrides");
    CHECK(d->would_refuse("TLSv1.3", "TLS_AES_256_GCM_SHA384").empty());
    CHECK_FALSE(d->would_refuse("TLSv1.3", "TLS_AES_128_GCM_SHA256").empty());

    modern.ciphersuites = "NOT_A_SUITE";
    CHECK_FALSE(DryRun::make(modern, err));
    CHECK_FALSE(err.empty());
}
