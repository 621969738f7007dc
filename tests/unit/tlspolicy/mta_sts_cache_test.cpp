// tests/unit/tlspolicy/mta_sts_cache_test.cpp — resolve_mta_sts() cache rules
// (RFC 8461 §5.1) with a static zone and a StateStore in a temporary spool:
// a cached policy survives a missing TXT record and a failing fetch, is
// used without fetching while the id is unchanged, and stops counting once
// expired. (The HTTPS fetch itself is exercised by test_outbound_tls.py.)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <exception>

#include "relay/core/resolver.hpp"
#include "relay/core/state_store.hpp"
#include "tlspolicy/mta_sts_client.hpp"

namespace asio = boost::asio;
namespace tp = mxgate::tlspolicy;
using namespace mxgate::core;
using namespace std::string_literals;

namespace {

struct Captured final : EventSink {
    std::vector<Event> events;
    void emit(const Event& e) override { events.push_back(e); }
};

tp::StsLookup lookup(Resolver& r, StateStore& store, Captured& ev, const std::string& domain) {
    asio::io_context io;
    std::optional<tp::StsLookup> out;
    std::exception_ptr err;
    asio::co_spawn(io, tp::resolve_mta_sts(io.get_executor(), r, nullptr, store, &ev, domain),
                   [&](std::exception_ptr e, tp::StsLookup v) {
                       err = e;
                       if (!e) out = std::move(v);
                   });
    io.run();
    if (err) std::rethrow_exception(err);
    return std::move(*out);
}

std::string txt(const std::string& s) { return std::string(1, static_cast<char>(s.size())) + s; }

struct TempSpool {
    std::filesystem::path dir;
    TempSpool() {
        char tmpl[] = "/tmp/mxgate-sts-XXXXXX";
        dir = mkdtemp(tmpl);
    }
    ~TempSpool() { std::filesystem::remove_all(dir); }
};

void seed(StateStore& store, const std::string& domain, const std::string& id, int64_t fetched) {
    tp::StsCacheEntry e;
    e.id = id;
    e.fetched = fetched;
    e.body = "version: STSv1\nmode: enforce\nmx: mx.a.example\nmax_age: 3600\n";
    REQUIRE(store.put(domain, tp::serialize_cache_entry(e)));
}

}  // namespace

TEST_CASE("a cached policy survives DNS and fetch failures", "[mta-sts][cache]") {
    TempSpool spool;
    StateStore store(spool.dir, "mta-sts");
    Captured ev;
    StaticResolver r;
    seed(store, "a.example", "one", tp::unix_now() - 10);

    // TXT gone (NXDOMAIN): the cached policy stays in force, no fetch.
    auto l = lookup(r, store, ev, "a.example");
    REQUIRE(l.policy);
    CHECK(l.from_cache);
    CHECK(l.policy->mode == tp::StsMode::enforce);
    CHECK(ev.events.empty());

    // Same id: cache, no fetch.
    r.add_record("_mta-sts.a.example", rrtype::TXT, txt("v=STSv1; id=one;"));
    l = lookup(r, store, ev, "a.example");
    CHECK(l.from_cache);
    CHECK_FALSE(l.fetched);
    CHECK(ev.events.empty());

    // New id, the fetch fails (no TLS context, no address): cache kept.
    StaticResolver r2;
    r2.add_record("_mta-sts.a.example", rrtype::TXT, txt("v=STSv1; id=two;"));
    l = lookup(r2, store, ev, "a.example");
    REQUIRE(l.policy);
    CHECK(l.from_cache);
    CHECK(l.id == "one");
    REQUIRE(ev.events.size() == 1);
    CHECK(ev.events[0].name == "mta_sts.failed");
    CHECK(ev.events[0].str(Field::result) == "cached policy kept");
    CHECK_FALSE(ev.events[0].str(Field::error).empty());

    // TXT lookup failing temporarily: cache kept.
    StaticResolver r3;
    DnsReply fail;
    fail.status = DnsStatus::temp_fail;
    fail.error = "SERVFAIL";
    r3.add("_mta-sts.a.example", rrtype::TXT, fail);
    l = lookup(r3, store, ev, "a.example");
    CHECK(l.policy);
    CHECK_FALSE(l.txt_error.empty());
}

TEST_CASE("an expired cached policy no longer applies", "[mta-sts][cache]") {
    TempSpool spool;
    StateStore store(spool.dir, "mta-sts");
    Captured ev;
    StaticResolver r;
    seed(store, "b.example", "one", tp::unix_now() - 7200);  // max_age 3600
    auto l = lookup(r, store, ev, "b.example");
    CHECK_FALSE(l.policy);
    REQUIRE(l.cached);  // still reported as what the cache held
    r.add_record("_mta-sts.b.example", rrtype::TXT, txt("v=STSv1; id=one;"));
    l = lookup(r, store, ev, "b.example");
    CHECK_FALSE(l.policy);  // same id but expired: refetch, which fails
    REQUIRE(ev.events.size() == 1);
    CHECK(ev.events[0].str(Field::result) == "no policy");
}

TEST_CASE("no record and nothing cached: no policy, no fetch", "[mta-sts][cache]") {
    TempSpool spool;
    StateStore store(spool.dir, "mta-sts");
    Captured ev;
    StaticResolver r;
    r.add_record("_mta-sts.c.example", rrtype::TXT, txt("v=spf1 -all"));
    auto l = lookup(r, store, ev, "c.example");
    CHECK_FALSE(l.policy);
    CHECK_FALSE(l.txt_error.empty());
    CHECK(ev.events.empty());
}
