// tests/unit/dns/answer_cache_test.cpp — the resolver's reuse of answers
// within their TTL (relay/core/answer_cache.hpp).
#include <catch2/catch.hpp>

#include "relay/core/answer_cache.hpp"

using namespace mxgate::core;
using std::chrono::seconds;

namespace {

DnsReply reply(DnsStatus status, uint32_t ttl, std::string rdata = "x", bool authenticated = false) {
    DnsReply r;
    r.status = status;
    r.ttl = ttl;
    r.authenticated = authenticated;
    if (status == DnsStatus::ok) r.rdata.push_back(std::move(rdata));
    return r;
}

}  // namespace

TEST_CASE("answer cache: reused until the TTL runs out, with the TTL left", "[dns][answer_cache]") {
    AnswerCache c;
    const auto t0 = AnswerCache::Clock::now();
    c.put("Example.TEST.", rrtype::TXT, reply(DnsStatus::ok, 300, "v=spf1 -all", true), t0);
    auto hit = c.get("example.test", rrtype::TXT, t0 + seconds(100));
    REQUIRE(hit);
    CHECK(hit->status == DnsStatus::ok);
    CHECK(hit->rdata == std::vector<std::string>{"v=spf1 -all"});
    CHECK(hit->authenticated);
    CHECK(hit->ttl == 200);
    CHECK_FALSE(c.get("example.test", rrtype::TXT, t0 + seconds(300)));  // expired
    CHECK_FALSE(c.get("example.test", rrtype::MX, t0));                   // another type
    CHECK_FALSE(c.get("other.test", rrtype::TXT, t0));
}

TEST_CASE("answer cache: negative answers kept, failures and TTL 0 never", "[dns][answer_cache]") {
    AnswerCache c;
    const auto t0 = AnswerCache::Clock::now();
    c.put("nx.test", rrtype::TXT, reply(DnsStatus::nxdomain, 60), t0);
    c.put("nodata.test", rrtype::TXT, reply(DnsStatus::nodata, 60), t0);
    c.put("fail.test", rrtype::TXT, reply(DnsStatus::temp_fail, 60), t0);
    c.put("zero.test", rrtype::TXT, reply(DnsStatus::ok, 0), t0);
    REQUIRE(c.get("nx.test", rrtype::TXT, t0));
    CHECK(c.get("nx.test", rrtype::TXT, t0)->status == DnsStatus::nxdomain);
    CHECK(c.get("nodata.test", rrtype::TXT, t0)->status == DnsStatus::nodata);
    CHECK_FALSE(c.get("fail.test", rrtype::TXT, t0));
    CHECK_FALSE(c.get("zero.test", rrtype::TXT, t0));
    CHECK(c.size() == 2);
}

TEST_CASE("answer cache: TTL capped, a newer answer replaces the old one", "[dns][answer_cache]") {
    AnswerCache c(100, seconds(60));
    const auto t0 = AnswerCache::Clock::now();
    c.put("a.test", rrtype::A, reply(DnsStatus::ok, 86400, "1"), t0);
    CHECK(c.get("a.test", rrtype::A, t0 + seconds(59)));
    CHECK_FALSE(c.get("a.test", rrtype::A, t0 + seconds(60)));
    c.put("a.test", rrtype::A, reply(DnsStatus::ok, 30, "2"), t0 + seconds(60));
    auto hit = c.get("a.test", rrtype::A, t0 + seconds(61));
    REQUIRE(hit);
    CHECK(hit->rdata.front() == "2");
}

TEST_CASE("answer cache: bounded; expired entries go first", "[dns][answer_cache]") {
    AnswerCache c(3);
    const auto t0 = AnswerCache::Clock::now();
    c.put("old.test", rrtype::A, reply(DnsStatus::ok, 10), t0);
    c.put("b.test", rrtype::A, reply(DnsStatus::ok, 100), t0);
    c.put("c.test", rrtype::A, reply(DnsStatus::ok, 100), t0);
    c.put("d.test", rrtype::A, reply(DnsStatus::ok, 100), t0 + seconds(20));  // old.test expired: room
    CHECK(c.size() == 3);
    CHECK(c.get("b.test", rrtype::A, t0 + seconds(21)));
    CHECK(c.get("d.test", rrtype::A, t0 + seconds(21)));
    c.put("e.test", rrtype::A, reply(DnsStatus::ok, 100), t0 + seconds(21));  // none expired: starts over
    CHECK(c.size() == 1);
    CHECK(c.get("e.test", rrtype::A, t0 + seconds(22)));
}
