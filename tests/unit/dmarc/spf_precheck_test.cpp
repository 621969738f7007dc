// Unit tests for the SPF pre-check (dmarc/spf_precheck.hpp): a table of
// records and whether they may reach libspf2.
#include <catch2/catch.hpp>
#include <string>

#include "dmarc/spf_precheck.hpp"

using namespace mxgate::dmarc;

TEST_CASE("spf precheck: RFC 7208 records pass", "[spf]") {
    const char* good[] = {
        "v=spf1",
        "v=spf1 -all",
        "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx ptr ~all",
        "v=spf1 a:mail.example.org/24//64 mx/30 mx:example.org//48 -all",
        "v=spf1 include:_spf.example.net ?all",
        "v=spf1 exists:%{i}.%{l1r+-}._spf.%{d} -all",
        "v=spf1 redirect=_spf.example.org",
        "v=spf1 -all exp=explain._spf.%{d}",
        "V=SPF1 IP4:192.0.2.1 -ALL",
        "v=spf1 foo.bar=baz%{d}  -all ",
        "v=spf1 a:%{d2}.example.com",
        "v=spf1 exists:%{ir}.%{v}._spf.%{d2}",
    };
    for (const char* r : good) {
        INFO(r);
        const SpfPrecheck p = precheck_spf_record(r);
        CHECK(p.reason == "");
        CHECK(p.ok);
    }
}

TEST_CASE("spf precheck: malformed and hostile records are refused", "[spf]") {
    const std::string long_term = "v=spf1 include:" + std::string(250, 'a') + ".example.org";
    std::string many_macros = "v=spf1 exists:";
    for (int i = 0; i < 9; ++i) many_macros += "%{d}.";
    many_macros += "example.org";
    // The CVE-2023-42118 shape: a term that fills libspf2's 511-byte
    // compile buffer with alternating literals and macros.
    std::string cve = "v=spf1 exists:";
    for (int i = 0; i < 60; ++i) cve += "a%{l}";
    cve += ".example.org";
    std::string many_terms = "v=spf1";
    for (int i = 0; i < 65; ++i) many_terms += " a";
    const std::string huge = "v=spf1 " + std::string(3000, ' ') + "-all";
    const std::string bad[] = {
        "v=spf10 -all",
        "spf1 -all",
        "v=spf1 -all -all2",
        "v=spf1 include",
        "v=spf1 include:",
        "v=spf1 all:foo",
        "v=spf1 ip4:300.1.2.3",
        "v=spf1 ip4:192.0.2.1/33",
        "v=spf1 ip6:2001:db8::/129",
        "v=spf1 ip4:192.0.2.1/024",
        "v=spf1 a:example.org/24//",
        "v=spf1 redirect=a.example.org redirect=b.example.org",
        "v=spf1 exp=a.example.org exp=b.example.org",
        "v=spf1 exists:%{x}.example.org",
        "v=spf1 exists:%{d0}.example.org",
        "v=spf1 exists:%{d129}.example.org",
        "v=spf1 exists:%{d2147483648}.example.org",
        "v=spf1 exists:%{d",
        "v=spf1 exists:%{c}.example.org",  // c only in explanations
        "v=spf1 exists:%x.example.org",
        "v=spf1 exists:%",
        "v=spf1 a:example.123",
        "v=spf1 a:example",
        "v=spf1\t-all",
        std::string("v=spf1 a:ex\0ample.org", 21),
        "v=spf1 a:ex\xc3\xa4mple.org",
        long_term,
        many_macros,
        cve,
        many_terms,
        huge,
    };
    for (const std::string& r : bad) {
        INFO(r.substr(0, 80));
        CHECK_FALSE(precheck_spf_record(r).ok);
    }
}

TEST_CASE("spf precheck: is_spf_record", "[spf]") {
    CHECK(is_spf_record("v=spf1"));
    CHECK(is_spf_record("v=spf1 -all"));
    CHECK(is_spf_record("V=Spf1 -all"));
    CHECK_FALSE(is_spf_record("v=spf10"));
    CHECK_FALSE(is_spf_record("v=spf"));
    CHECK_FALSE(is_spf_record("google-site-verification=abc"));
}

TEST_CASE("spf precheck: explanations, domains, local parts", "[spf]") {
    CHECK(precheck_explanation("%{i} is not one of %{d}'s designated mail servers.").ok);
    CHECK(precheck_explanation("See http://%{d}/why.html?s=%{S}&i=%{I}&r=%{r}&t=%{t}&c=%{c}").ok);
    CHECK_FALSE(precheck_explanation(std::string(300, 'x')).ok);
    CHECK_FALSE(precheck_explanation("%{z}").ok);
    CHECK_FALSE(precheck_explanation("tab\there").ok);

    CHECK(precheck_domain("example.org").ok);
    CHECK(precheck_domain("Mail-1.Example.ORG.").ok);
    CHECK(precheck_domain("_spf.example.org").ok);
    CHECK_FALSE(precheck_domain("localhost").ok);
    CHECK_FALSE(precheck_domain("").ok);
    CHECK_FALSE(precheck_domain("a..example.org").ok);
    CHECK_FALSE(precheck_domain(std::string(64, 'a') + ".org").ok);
    CHECK_FALSE(precheck_domain(std::string(250, 'a') + ".org").ok);
    CHECK_FALSE(precheck_domain("[192.0.2.1]").ok);
    CHECK_FALSE(precheck_domain("exa mple.org").ok);

    CHECK(precheck_local_part("alice").ok);
    CHECK(precheck_local_part("a.b+tag-x_y").ok);
    CHECK_FALSE(precheck_local_part("").ok);
    CHECK_FALSE(precheck_local_part(std::string(65, 'a')).ok);
    CHECK_FALSE(precheck_local_part("a b").ok);
    CHECK_FALSE(precheck_local_part("\xc3\xa4").ok);
}
