// tests/unit/tlspolicy/mta_sts_test.cpp — RFC 8461 TXT and policy parsing,
// MX pattern matching and the cache record format (tlspolicy/mta_sts.hpp).
#include <catch2/catch.hpp>

#include "tlspolicy/mta_sts.hpp"

namespace tp = mxgate::tlspolicy;

TEST_CASE("STSv1 TXT records", "[mta-sts]") {
    auto r = tp::parse_sts_txt("v=STSv1; id=20160831085700Z;");
    REQUIRE(r);
    CHECK(r->id == "20160831085700Z");
    CHECK(tp::parse_sts_txt("v=STSv1;id=abc")->id == "abc");
    CHECK(tp::parse_sts_txt("v=STSv1 ;\tid=abc ; ext_1=x-y")->id == "abc");
    CHECK_FALSE(tp::parse_sts_txt("v=STSv1;"));                 // no id
    CHECK_FALSE(tp::parse_sts_txt("v=STSv1; ext=1"));           // no id
    CHECK_FALSE(tp::parse_sts_txt("v=STSv2; id=1"));
    CHECK_FALSE(tp::parse_sts_txt("id=1; v=STSv1"));            // version first
    CHECK_FALSE(tp::parse_sts_txt("v=STSv1; id=abc-def"));      // id alphanumeric only
    CHECK_FALSE(tp::parse_sts_txt("v=STSv1; id=" + std::string(33, 'a')));
    CHECK(tp::parse_sts_txt("v=STSv1; id=" + std::string(32, 'a')));
    CHECK_FALSE(tp::parse_sts_txt("v=STSv1; id=1; id=2"));      // duplicate id
    CHECK_FALSE(tp::parse_sts_txt("v=STSv1 id=1"));             // missing delimiter
    CHECK_FALSE(tp::parse_sts_txt("v=STSv1; id=1; =x"));
    CHECK_FALSE(tp::parse_sts_txt("v=STSv1; id=1; x=a=b"));
    CHECK_FALSE(tp::parse_sts_txt(""));
}

TEST_CASE("TXT record selection: exactly one STSv1 record", "[mta-sts]") {
    CHECK(tp::select_sts_record({"v=spf1 -all", "v=STSv1; id=1"})->id == "1");
    CHECK_FALSE(tp::select_sts_record({"v=STSv1; id=1", "v=STSv1; id=2"}));
    CHECK_FALSE(tp::select_sts_record({"v=spf1 -all"}));
    CHECK_FALSE(tp::select_sts_record({"v=STSv1; id=bad!"}));
    CHECK_FALSE(tp::select_sts_record({}));
    CHECK(tp::select_sts_record({"v=STSv10; id=1", "v=STSv1;id=2"})->id == "2");  // "v=STSv10" is not STSv1
}

TEST_CASE("policy files", "[mta-sts]") {
    std::string err;
    auto p = tp::parse_sts_policy("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.Example.NET\r\n"
                                  "max_age: 604800\r\n",
                                  err);
    INFO(err);
    REQUIRE(p);
    CHECK(p->mode == tp::StsMode::enforce);
    CHECK(p->mx == std::vector<std::string>{"mail.example.com", "*.example.net"});
    CHECK(p->max_age == 604800);

    p = tp::parse_sts_policy("version: STSv1\nmode: testing\nmx: mx.example.org\nmax_age: 86400\nfoo: bar\n", err);
    REQUIRE(p);
    CHECK(p->mode == tp::StsMode::testing);
    p = tp::parse_sts_policy("version: STSv1\nmode: none\nmax_age: 0", err);  // no mx needed for none
    REQUIRE(p);
    CHECK(p->mode == tp::StsMode::none);

    const char* bad[] = {
        "mode: enforce\nmx: a.example\nmax_age: 1\n",                        // no version
        "version: STSv1\nmx: a.example\nmax_age: 1\n",                       // no mode
        "version: STSv1\nmode: enforce\nmx: a.example\n",                    // no max_age
        "version: STSv1\nmode: enforce\nmax_age: 1\n",                       // no mx
        "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",
        "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforcing\nmx: a.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1x\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n",
        "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: localhost\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx a.example\nmax_age: 1\n",
        "version: STSv1\rmode: enforce\nmx: a.example\nmax_age: 1\n",
        "<html><body>not a policy</body></html>",
        "",
    };
    for (const char* b : bad) {
        INFO(b);
        CHECK_FALSE(tp::parse_sts_policy(b, err));
        CHECK_FALSE(err.empty());
    }
}

TEST_CASE("MX patterns (RFC 8461 §4.1)", "[mta-sts]") {
    CHECK(tp::sts_mx_pattern_matches("mail.example.com", "mail.example.com"));
    CHECK(tp::sts_mx_pattern_matches("mail.example.com", "MAIL.example.com."));
    CHECK_FALSE(tp::sts_mx_pattern_matches("mail.example.com", "mail2.example.com"));
    CHECK(tp::sts_mx_pattern_matches("*.example.com", "mx1.example.com"));
    CHECK_FALSE(tp::sts_mx_pattern_matches("*.example.com", "example.com"));
    CHECK_FALSE(tp::sts_mx_pattern_matches("*.example.com", "a.b.example.com"));
    CHECK_FALSE(tp::sts_mx_pattern_matches("mx.example.org", "mx.example.org.evil"));  // suffix is no match (was probe_records_test)
    CHECK_FALSE(tp::sts_mx_pattern_matches("*.example.com", "xexample.com"));
    CHECK_FALSE(tp::sts_mx_pattern_matches("*.example.com", ".example.com"));
    tp::StsPolicy p;
    p.mx = {"mx.a.example", "*.b.example"};
    CHECK(tp::sts_policy_allows_mx(p, "x.b.example"));
    CHECK_FALSE(tp::sts_policy_allows_mx(p, "evil.example"));
}

TEST_CASE("cache entries round-trip and refuse damage", "[mta-sts]") {
    tp::StsCacheEntry e;
    e.id = "abc";
    e.fetched = 1700000000;
    e.body = "version: STSv1\nmode: enforce\nmx: mx.a.example\nmax_age: 600\n";
    const std::string s = tp::serialize_cache_entry(e);
    auto back = tp::parse_cache_entry(s);
    REQUIRE(back);
    CHECK(back->id == "abc");
    CHECK(back->fetched == 1700000000);
    CHECK(back->policy.mode == tp::StsMode::enforce);
    CHECK(back->expires() == 1700000600);
    CHECK_FALSE(tp::parse_cache_entry("id=abc\n\nversion: STSv1\n"));
    CHECK_FALSE(tp::parse_cache_entry("garbage"));
    CHECK_FALSE(tp::parse_cache_entry("id=a\nfetched=x1\n\n" + e.body));
}
