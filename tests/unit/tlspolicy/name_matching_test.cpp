// tests/unit/tlspolicy/name_matching_test.cpp — RFC 6125 host checks and
// SPEC §3 match lists, as tables of (certificate, reference, expected).
#include <catch2/catch.hpp>

#include "test_support.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace tp = mxgate::tlspolicy;
using tlstest::CertSpec;
using tlstest::KeyType;
using tlstest::make_cert;

namespace {

tlstest::KeyCert cert(const std::string& cn, const std::string& san) {
    return make_cert(CertSpec{.cn = cn, .san = san, .key = KeyType::ec_p256});
}

}  // namespace

TEST_CASE("certificate_matches_host: DNS SANs, wildcards, IPs", "[names]") {
    auto c = cert("ignored.example.com",
                  "DNS:mx.example.com,DNS:*.wild.example.com,DNS:*.xn--bcher-kva.example,"
                  "IP:192.0.2.7,IP:2001:db8::25");
    struct Row {
        const char* host;
        bool expect;
    };
    const Row rows[] = {
        {"mx.example.com", true},
        {"MX.Example.COM", true},          // case-insensitive
        {"mx.example.com.", true},         // trailing dot
        {"a.wild.example.com", true},      // * = one label
        {"A.WILD.example.com", true},
        {"a.b.wild.example.com", false},   // * never spans labels
        {"wild.example.com", false},       // * never matches empty
        {".wild.example.com", false},
        {"a.xn--bcher-kva.example", true}, // wildcard over an A-label base
        {"ignored.example.com", false},    // CN ignored when DNS SANs exist
        {"example.com", false},
        {"xmx.example.com", false},
        {"mx.example.com.evil", false},
        {"192.0.2.7", true},               // IP reference -> iPAddress SAN
        {"[192.0.2.7]", true},             // SMTP address literal
        {"2001:db8::25", true},
        {"[IPv6:2001:db8::25]", true},
        {"192.0.2.8", false},
        {"*.wild.example.com", false},     // a reference is never a pattern
        {"", false},
    };
    for (const Row& row : rows) {
        CAPTURE(row.host);
        CHECK(tp::certificate_matches_host(c.cert.get(), row.host) == row.expect);
    }
    CHECK_FALSE(tp::certificate_matches_host(nullptr, "mx.example.com"));
}

TEST_CASE("certificate_matches_host: CN only without any DNS SAN", "[names]") {
    auto cn_only = cert("Legacy.Example.NET", "");
    CHECK(tp::certificate_matches_host(cn_only.cert.get(), "legacy.example.net"));
    CHECK_FALSE(tp::certificate_matches_host(cn_only.cert.get(), "other.example.net"));

    // An IP SAN is not a DNS-ID: the CN still counts (RFC 6125 §6.4.4).
    auto cn_and_ip = cert("host.example.net", "IP:192.0.2.1");
    CHECK(tp::certificate_matches_host(cn_and_ip.cert.get(), "host.example.net"));
    CHECK(tp::certificate_matches_host(cn_and_ip.cert.get(), "192.0.2.1"));

    // An IP address never matches a DNS name or CN that spells it.
    auto ip_as_dns = cert("192.0.2.9", "DNS:192.0.2.9");
    CHECK_FALSE(tp::certificate_matches_host(ip_as_dns.cert.get(), "192.0.2.9"));
    auto ip_as_cn = cert("192.0.2.9", "");
    CHECK_FALSE(tp::certificate_matches_host(ip_as_cn.cert.get(), "192.0.2.9"));
}

TEST_CASE("certificate_matches_host: bad wildcards never match", "[names]") {
    struct Row {
        const char* san;
        const char* host;
    };
    const Row rows[] = {
        {"DNS:f*.example.com", "foo.example.com"},      // partial wildcard
        {"DNS:*o.example.com", "foo.example.com"},
        {"DNS:*.com", "example.com"},                   // too broad
        {"DNS:*", "localhost"},
        {"DNS:a.*.example.com", "a.b.example.com"},     // not left-most
        {"DNS:*.*.example.com", "a.b.example.com"},
        {"DNS:**.example.com", "a.example.com"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.san, row.host);
        auto c = cert("", row.san);
        CHECK_FALSE(tp::certificate_matches_host(c.cert.get(), row.host));
    }
}

TEST_CASE("certificate_matches_host: embedded NUL is refused", "[names]") {
    using namespace std::string_literals;
    auto c = tlstest::make_cert_with_raw_dns_san("mx.bank.example",
                                                 "mx.bank.example\0.evil.example"s);
    // Refused, and the poisoned SAN is still a DNS-ID, so the CN (which
    // says mx.bank.example) must not be used instead.
    CHECK_FALSE(tp::certificate_matches_host(c.cert.get(), "mx.bank.example"));
    CHECK_FALSE(tp::certificate_matches_list(c.cert.get(), {".bank.example", ".evil.example"}));
    auto clean = tlstest::make_cert_with_raw_dns_san("x", "mx.bank.example");
    CHECK(tp::certificate_matches_host(clean.cert.get(), "mx.bank.example"));
}

TEST_CASE("certificate_matches_list: SPEC §3 match semantics", "[names]") {
    auto plain = cert("", "DNS:mx1.mail.example.com");
    auto apex = cert("", "DNS:example.com");
    auto wild = cert("", "DNS:*.example.com");
    auto deep_wild = cert("", "DNS:*.mx.example.com");
    auto ip = cert("", "IP:192.0.2.25");
    using List = std::vector<std::string>;
    struct Row {
        const tlstest::KeyCert* c;
        List patterns;
        bool expect;
    };
    const Row rows[] = {
        {&plain, {".example.com"}, true},
        {&plain, {".mail.example.com"}, true},
        {&plain, {".EXAMPLE.com."}, true},
        {&plain, {".mx1.mail.example.com"}, false},   // not a strict subdomain of itself
        {&plain, {"example.com"}, false},
        {&plain, {"mx1.mail.example.com"}, true},
        {&plain, {".other.com", "mx1.mail.example.com"}, true},
        {&plain, {".other.com", "mail.example.com"}, false},
        {&plain, {".ample.com"}, false},              // label boundary
        {&plain, {}, false},
        {&plain, {"."}, false},
        {&plain, {""}, false},
        {&apex, {".example.com"}, false},             // SPEC: not example.com itself
        {&apex, {"example.com"}, true},
        {&wild, {".example.com"}, true},              // every expansion is a subdomain
        {&wild, {"mx.example.com"}, true},            // RFC 6125 with the entry as host
        {&wild, {".mx.example.com"}, false},          // *.example.com is not under mx.
        {&wild, {"example.com"}, false},
        {&wild, {"a.b.example.com"}, false},
        {&deep_wild, {".example.com"}, true},
        {&deep_wild, {".mx.example.com"}, true},
        {&deep_wild, {"mx.example.com"}, false},
        {&ip, {"192.0.2.25"}, true},
        {&ip, {".0.2.25"}, false},
    };
    for (const Row& row : rows) {
        CAPTURE(row.patterns, row.expect);
        CHECK(tp::certificate_matches_list(row.c->cert.get(), row.patterns) == row.expect);
    }
}
