// SPF evaluation (dmarc/spf_check.hpp) with libspf2 over a static zone
// reached through the blocking DNS bridge.
#include <catch2/catch.hpp>

#include "dmarc/spf_check.hpp"
#include "dns_fixture.hpp"

using namespace mxgate;
using namespace mxgate::dmarc;
using mxgate::testing::a_rdata;
using mxgate::testing::DnsFixture;

namespace {

SpfVerdict spf(DnsFixture& f, const std::string& ip, const std::string& sender, const std::string& helo = "client.example.net") {
    return check_spf(f.dns, SpfInput{ip, helo, sender, "mx.example.org"});
}

}  // namespace

TEST_CASE("spf: the seven results", "[spf]") {
    DnsFixture f;
    f.txt("pass.test", "v=spf1 ip4:192.0.2.0/24 -all");
    f.txt("fail.test", "v=spf1 ip4:198.51.100.1 -all");
    f.txt("soft.test", "v=spf1 ~all");
    f.txt("neutral.test", "v=spf1 ?all");
    f.txt("perm.test", "v=spf1 bogus:thing -all");
    f.servfail("temp.test", core::rrtype::TXT);
    f.txt("nospf.test", "some other text");
    CHECK(spf(f, "192.0.2.7", "alice@pass.test").result == SpfResult::pass);
    CHECK(spf(f, "192.0.2.7", "alice@fail.test").result == SpfResult::fail);
    CHECK(spf(f, "192.0.2.7", "alice@soft.test").result == SpfResult::softfail);
    CHECK(spf(f, "192.0.2.7", "alice@neutral.test").result == SpfResult::neutral);
    CHECK(spf(f, "192.0.2.7", "alice@perm.test").result == SpfResult::permerror);
    CHECK(spf(f, "192.0.2.7", "alice@temp.test").result == SpfResult::temperror);
    CHECK(spf(f, "192.0.2.7", "alice@nospf.test").result == SpfResult::none);
    CHECK(spf(f, "192.0.2.7", "alice@nxdomain.test").result == SpfResult::none);
    const SpfVerdict v = spf(f, "::ffff:192.0.2.7", "Alice@PASS.test");
    CHECK(v.result == SpfResult::pass);
    CHECK(v.identity == "mailfrom");
    CHECK(v.domain == "pass.test");
}

TEST_CASE("spf: null sender uses the HELO identity", "[spf]") {
    DnsFixture f;
    f.txt("helo.test", "v=spf1 a -all");
    f.a("helo.test", a_rdata(192, 0, 2, 9));
    SpfVerdict v = spf(f, "192.0.2.9", "", "helo.test");
    CHECK(v.result == SpfResult::pass);
    CHECK(v.identity == "helo");
    CHECK(v.domain == "helo.test");
    v = spf(f, "192.0.2.10", "", "helo.test");
    CHECK(v.result == SpfResult::fail);
    v = spf(f, "192.0.2.10", "", "not-a-fqdn");
    CHECK(v.result == SpfResult::none);
}

TEST_CASE("spf: mechanisms a, mx, include, redirect, exists", "[spf]") {
    DnsFixture f;
    f.txt("mech.test", "v=spf1 mx include:inc.test exists:%{i}.ex.test redirect=red.test");
    f.zone->add_record("mech.test", core::rrtype::MX, std::string("\0\x0a\x02mx\x04mech\x04test\0", 16));
    f.a("mx.mech.test", a_rdata(192, 0, 2, 1));
    f.txt("inc.test", "v=spf1 ip4:192.0.2.2 -all");
    f.a("192.0.2.3.ex.test", a_rdata(127, 0, 0, 2));
    f.txt("red.test", "v=spf1 ip4:192.0.2.4 -all");
    CHECK(spf(f, "192.0.2.1", "a@mech.test").result == SpfResult::pass);
    CHECK(spf(f, "192.0.2.2", "a@mech.test").result == SpfResult::pass);
    CHECK(spf(f, "192.0.2.3", "a@mech.test").result == SpfResult::pass);
    CHECK(spf(f, "192.0.2.4", "a@mech.test").result == SpfResult::pass);
    CHECK(spf(f, "192.0.2.5", "a@mech.test").result == SpfResult::fail);
}

TEST_CASE("spf: RFC 7208 §4.6.4 limits", "[spf]") {
    DnsFixture f;
    // 11 DNS mechanisms: permerror.
    std::string rec = "v=spf1";
    for (int i = 0; i < 11; ++i) {
        rec += " include:i" + std::to_string(i) + ".lim.test";
        f.txt("i" + std::to_string(i) + ".lim.test", "v=spf1 ip4:203.0.113.1 -all");
    }
    f.txt("eleven.test", rec + " -all");
    CHECK(spf(f, "192.0.2.1", "a@eleven.test").result == SpfResult::permerror);
    // 10 are fine.
    std::string ten = "v=spf1";
    for (int i = 0; i < 10; ++i) ten += " include:i" + std::to_string(i) + ".lim.test";
    f.txt("ten.test", ten + " -all");
    CHECK(spf(f, "192.0.2.1", "a@ten.test").result == SpfResult::fail);
    // 3 void lookups: permerror; 2 are fine.
    f.txt("void3.test", "v=spf1 a:v1.void.test a:v2.void.test a:v3.void.test -all");
    f.txt("void2.test", "v=spf1 a:v1.void.test a:v2.void.test -all");
    CHECK(spf(f, "192.0.2.1", "a@void3.test").result == SpfResult::permerror);
    CHECK(spf(f, "192.0.2.1", "a@void2.test").result == SpfResult::fail);
}

TEST_CASE("spf: hostile records never reach libspf2", "[spf]") {
    DnsFixture f;
    std::string cve = "v=spf1 exists:";
    for (int i = 0; i < 60; ++i) cve += "a%{l}";
    cve += ".example.org -all";
    f.txt("hostile.test", "v=spf1 include:cve.test -all");
    f.txt("cve.test", cve);
    f.txt("direct.test", cve);
    std::string digits = "v=spf1 exists:%{l2147483648r}.x.test -all";
    f.txt("digits.test", digits);
    const SpfVerdict v = spf(f, "192.0.2.1", "a@hostile.test");
    CHECK(v.result == SpfResult::permerror);
    CHECK(v.explanation.find("invalid SPF record at cve.test") != std::string::npos);
    CHECK(spf(f, "192.0.2.1", "a@direct.test").result == SpfResult::permerror);
    CHECK(spf(f, "192.0.2.1", "a@digits.test").result == SpfResult::permerror);
    // Hostile identities are not handed over either.
    CHECK(spf(f, "192.0.2.1", std::string(200, 'x') + "@pass.test").result == SpfResult::none);
}

TEST_CASE("spf: the bridge refuses to block outside a worker", "[spf]") {
    DnsFixture f;
    f.txt("pass.test", "v=spf1 +all");
    std::thread other([&] {
        const auto r = f.dns.query("pass.test", core::rrtype::TXT);
        CHECK(r.status == core::DnsStatus::temp_fail);
    });
    other.join();
}
