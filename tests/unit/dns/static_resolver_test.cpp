// tests/unit/dns/static_resolver_test.cpp — StaticResolver and the typed
// lookup_* helpers (relay/core/static_resolver.cpp, dns_lookup.cpp).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <exception>

#include "relay/core/resolver.hpp"

using namespace mxgate::core;
using namespace std::string_literals;
namespace asio = boost::asio;

namespace {

// Runs one coroutine to completion on a fresh io_context; rethrows.
template <class T>
T run(asio::awaitable<T> aw) {
    asio::io_context io;
    std::optional<T> out;
    std::exception_ptr err;
    asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
        err = e;
        if (!e) out = std::move(v);
    });
    io.run();
    if (err) std::rethrow_exception(err);
    return std::move(*out);
}

StaticResolver zone() {
    StaticResolver r;
    r.add_record("Example.TEST.", rrtype::MX, "\x00\x14\x03mx2\x07" "example\x04test\x00"s);
    r.add_record("example.test", rrtype::MX, "\x00\x0a\x03mx1\x07" "example\x04test\x00"s);
    r.add_record("example.test", rrtype::TXT, "\x07v=spf1 \x04-all"s);
    r.add_record("mx1.example.test", rrtype::A, "\x7f\0\0\x02"s);
    r.add_record("mixed.test", rrtype::A, "\x7f\0\0\x03"s);
    r.add_record("mixed.test", rrtype::A, "\x7f\0\0"s);  // malformed: skipped
    r.add_record("bad.test", rrtype::A, "\x01\x02"s);    // only malformed
    r.add_record("nullmx.test", rrtype::MX, "\x00\x00\x00"s);
    DnsReply fail;
    fail.status = DnsStatus::temp_fail;
    fail.error = "SERVFAIL";
    r.add("broken.test", rrtype::MX, fail);
    DnsReply signed_reply;
    signed_reply.status = DnsStatus::ok;
    signed_reply.authenticated = true;
    signed_reply.rdata = {"\x03\x01\x01"s + std::string(32, 'x')};
    r.add("_25._tcp.mx1.example.test", rrtype::TLSA, signed_reply);
    return r;
}

}  // namespace

TEST_CASE("StaticResolver answers from its table", "[dns][static]") {
    StaticResolver r = zone();
    auto ok = run(r.query("EXAMPLE.test.", rrtype::TXT));
    CHECK(ok.status == DnsStatus::ok);
    CHECK(ok.rdata.size() == 1);
    CHECK(run(r.query("example.test", rrtype::AAAA)).status == DnsStatus::nodata);
    CHECK(run(r.query("nowhere.test", rrtype::A)).status == DnsStatus::nxdomain);
    auto fail = run(r.query("broken.test", rrtype::MX));
    CHECK(fail.status == DnsStatus::temp_fail);
    CHECK(fail.error == "SERVFAIL");
    // "broken.test" exists (with MX): other types are nodata, not nxdomain.
    CHECK(run(r.query("broken.test", rrtype::A)).status == DnsStatus::nodata);
}

TEST_CASE("lookup_mx sorts by preference and keeps null MX", "[dns][lookup]") {
    StaticResolver r = zone();
    auto mx = run(lookup_mx(r, "example.test"));
    REQUIRE(mx.status == DnsStatus::ok);
    REQUIRE(mx.records.size() == 2);
    CHECK(mx.records[0].host == "mx1.example.test");
    CHECK(mx.records[0].preference == 10);
    CHECK(mx.records[1].host == "mx2.example.test");
    auto null_mx = run(lookup_mx(r, "nullmx.test"));
    REQUIRE(null_mx.records.size() == 1);
    CHECK(null_mx.records[0].host.empty());
    CHECK(run(lookup_mx(r, "nowhere.test")).status == DnsStatus::nxdomain);
    auto fail = run(lookup_mx(r, "broken.test"));
    CHECK(fail.status == DnsStatus::temp_fail);
    CHECK(fail.error == "SERVFAIL");
}

TEST_CASE("typed lookups skip malformed records; all malformed is temp_fail", "[dns][lookup]") {
    StaticResolver r = zone();
    auto mixed = run(lookup_a(r, "mixed.test"));
    CHECK(mixed.status == DnsStatus::ok);
    CHECK(mixed.records == std::vector<std::string>{"127.0.0.3"});
    auto bad = run(lookup_a(r, "bad.test"));
    CHECK(bad.status == DnsStatus::temp_fail);
    CHECK(bad.records.empty());
    CHECK_THAT(bad.error, Catch::Contains("malformed"));
    CHECK(run(lookup_txt(r, "example.test")).records == std::vector<std::string>{"v=spf1 -all"});
    CHECK(run(lookup_aaaa(r, "example.test")).status == DnsStatus::nodata);
}

TEST_CASE("lookup_tlsa carries the authenticated flag", "[dns][lookup]") {
    StaticResolver r = zone();
    auto t = run(lookup_tlsa(r, "_25._tcp.mx1.example.test"));
    REQUIRE(t.status == DnsStatus::ok);
    CHECK(t.authenticated);
    REQUIRE(t.records.size() == 1);
    CHECK(t.records[0].usage == 3);
    CHECK_FALSE(run(lookup_mx(r, "example.test")).authenticated);
}
