// tests/unit/tlspolicy/dane_test.cpp — DANE (RFC 7672): usable records,
// the per-host decision for every combination of DNS answers, the level
// interplay, lookups through a StaticResolver, and OpenSSL's verifier in
// in-memory handshakes (3 1 1 / 2 1 1 match and mismatch, DANE-TA names).
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "relay/core/resolver.hpp"
#include "test_support.hpp"
#include "tlspolicy/dane.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace tp = mxgate::tlspolicy;
namespace core = mxgate::core;
using mxgate::conf::OutboundLevel;
using tp::Answer;
using tp::DaneAction;
using tp::DaneState;

namespace {

core::TlsaRecord rec(uint8_t u, uint8_t s, uint8_t m, std::string data) {
    core::TlsaRecord r;
    r.usage = u;
    r.selector = s;
    r.matching_type = m;
    r.data = std::move(data);
    return r;
}

// SHA-256 of the certificate's SubjectPublicKeyInfo (selector 1, type 1).
std::string spki_sha256(X509* cert) {
    unsigned char* der = nullptr;
    const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(der, static_cast<size_t>(len), md, &mdlen, EVP_sha256(), nullptr);
    OPENSSL_free(der);
    return std::string(reinterpret_cast<char*>(md), mdlen);
}

tp::DaneAnswers secure_with(std::vector<core::TlsaRecord> recs) {
    tp::DaneAnswers a;
    a.address = Answer::records;
    a.address_secure = true;
    a.tlsa = Answer::records;
    a.tlsa_secure = true;
    a.tlsa_records = std::move(recs);
    return a;
}

tp::ContextPtr server_ctx() {
    std::string error;
    auto ctx = tp::make_server_context(tlstest::profile(mxgate::conf::TlsProfileName::modern),
                                       tlstest::pki().chain_file, tlstest::pki().key_file, error);
    INFO(error);
    REQUIRE(ctx);
    return ctx;
}

// A client context trusting nothing relevant: DANE alone must decide.
tp::ContextPtr client_ctx() {
    std::string error;
    auto ctx = tp::make_client_context(tlstest::profile(mxgate::conf::TlsProfileName::intermediate),
                                       tlstest::pki().other_root_file, error);
    INFO(error);
    REQUIRE(ctx);
    return ctx;
}

tp::DaneVerdict dane_handshake(const tp::DanePlan& plan) {
    auto srv = server_ctx();
    auto cli = client_ctx();
    std::string arm_error;
    auto h = tlstest::handshake(srv->native_handle(), cli->native_handle(),
                                [&](SSL* ssl) { return tp::arm_dane(ssl, plan, arm_error); });
    INFO(arm_error << " " << h.error);
    REQUIRE(h.ok);  // the verify callback always continues: the verdict is ours
    return tp::dane_verdict(h.client);
}

tp::DanePlan plan_for(const std::string& base, std::vector<core::TlsaRecord> recs, const std::string& host = "") {
    return tp::decide_dane(host.empty() ? base : host, base, secure_with(std::move(recs)));
}

template <class T>
T run(boost::asio::awaitable<T> aw) {
    boost::asio::io_context io;
    std::optional<T> out;
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> { out = co_await std::move(aw); },
                          boost::asio::detached);
    io.run();
    REQUIRE(out);
    return std::move(*out);
}

core::DnsReply reply(core::DnsStatus st, bool secure, std::vector<std::string> rdata = {}) {
    core::DnsReply r;
    r.status = st;
    r.authenticated = secure;
    r.rdata = std::move(rdata);
    if (st == core::DnsStatus::temp_fail) r.error = "SERVFAIL";
    return r;
}

std::string tlsa_rdata(const core::TlsaRecord& r) {
    return std::string{static_cast<char>(r.usage), static_cast<char>(r.selector), static_cast<char>(r.matching_type)} +
           r.data;
}

const std::string kA = std::string("\x7f\x00\x0b\x02", 4);

}  // namespace

TEST_CASE("usable TLSA records for SMTP", "[dane]") {
    const std::string h32(32, 'x'), h64(64, 'x');
    CHECK(tp::tlsa_usable(rec(3, 1, 1, h32)));
    CHECK(tp::tlsa_usable(rec(2, 1, 1, h32)));
    CHECK(tp::tlsa_usable(rec(3, 0, 2, h64)));
    CHECK(tp::tlsa_usable(rec(2, 0, 0, "certificate der")));
    // RFC 7672 §3.1: PKIX usages are unusable for SMTP.
    CHECK_FALSE(tp::tlsa_usable(rec(0, 1, 1, h32)));
    CHECK_FALSE(tp::tlsa_usable(rec(1, 1, 1, h32)));
    CHECK_FALSE(tp::tlsa_usable(rec(4, 1, 1, h32)));
    CHECK_FALSE(tp::tlsa_usable(rec(3, 2, 1, h32)));     // unknown selector
    CHECK_FALSE(tp::tlsa_usable(rec(3, 1, 3, h32)));     // unknown matching type
    CHECK_FALSE(tp::tlsa_usable(rec(3, 1, 1, h64)));     // wrong digest length
    CHECK_FALSE(tp::tlsa_usable(rec(3, 1, 2, h32)));
    CHECK_FALSE(tp::tlsa_usable(rec(3, 1, 0, "")));
    CHECK(tp::tlsa_text(rec(3, 1, 1, std::string("\x01\xab", 2))) == "3 1 1 01ab");
}

TEST_CASE("DANE decision per MX host", "[dane]") {
    const std::string h32(32, 'x');
    SECTION("secure usable records: authenticated, TLS required") {
        auto p = tp::decide_dane("mx.example", "mx.example", secure_with({rec(3, 1, 1, h32), rec(1, 1, 1, h32)}));
        CHECK(p.state == DaneState::authenticated);
        CHECK(p.tls_required());
        CHECK(p.usable.size() == 1);
        CHECK(p.unusable == 1);
    }
    SECTION("secure but only unusable records: TLS without authentication") {
        auto p = tp::decide_dane("mx.example", "mx.example", secure_with({rec(0, 1, 1, h32), rec(1, 0, 1, h32)}));
        CHECK(p.state == DaneState::unauthenticated);
        CHECK(p.tls_required());
    }
    SECTION("insecure TLSA records are ignored") {
        auto a = secure_with({rec(3, 1, 1, h32)});
        a.tlsa_secure = false;
        auto p = tp::decide_dane("mx.example", "mx.example", a);
        CHECK(p.state == DaneState::none);
        CHECK_FALSE(p.tls_required());
        CHECK(p.reason.find("not DNSSEC-signed") != std::string::npos);
    }
    SECTION("insecure addresses: no TLSA lookup counts") {
        auto a = secure_with({rec(3, 1, 1, h32)});
        a.address_secure = false;
        CHECK(tp::decide_dane("mx.example", "mx.example", a).state == DaneState::none);
    }
    SECTION("TLSA lookup failure with signed addresses defers (downgrade resistance)") {
        auto a = secure_with({});
        a.tlsa = Answer::failed;
        a.error = "dns: DNSSEC validation failed: signature expired";
        auto p = tp::decide_dane("mx.example", "mx.example", a);
        CHECK(p.state == DaneState::defer);
        CHECK(p.reason.find("signature expired") != std::string::npos);
    }
    SECTION("TLSA lookup failure with unsigned addresses does not matter") {
        auto a = secure_with({});
        a.tlsa = Answer::failed;
        a.address_secure = false;
        CHECK(tp::decide_dane("mx.example", "mx.example", a).state == DaneState::none);
    }
    SECTION("signed denial of TLSA: none") {
        auto a = secure_with({});
        a.tlsa = Answer::nxdomain;
        CHECK(tp::decide_dane("mx.example", "mx.example", a).state == DaneState::none);
        a.tlsa = Answer::nodata;
        CHECK(tp::decide_dane("mx.example", "mx.example", a).state == DaneState::none);
    }
    SECTION("address lookup failed or empty: none, the connection decides") {
        auto a = secure_with({rec(3, 1, 1, h32)});
        a.address = Answer::failed;
        CHECK(tp::decide_dane("mx.example", "mx.example", a).state == DaneState::none);
        a.address = Answer::nxdomain;
        CHECK(tp::decide_dane("mx.example", "mx.example", a).state == DaneState::none);
    }
    SECTION("reference names: base domain and MX host") {
        auto p = tp::decide_dane("mx.example", "mail.provider.example", secure_with({rec(2, 1, 1, h32)}));
        CHECK(p.reference_names() == std::vector<std::string>{"mail.provider.example", "mx.example"});
    }
}

TEST_CASE("DANE and the configured level", "[dane]") {
    const std::string h32(32, 'x');
    CHECK(tp::dane_wanted(OutboundLevel::dane, false));
    CHECK(tp::dane_wanted(OutboundLevel::opportunistic, true));
    CHECK(tp::dane_wanted(OutboundLevel::mta_sts, true));
    CHECK_FALSE(tp::dane_wanted(OutboundLevel::none, true));
    CHECK_FALSE(tp::dane_wanted(OutboundLevel::verify, false));

    auto usable = plan_for("mx.example", {rec(3, 1, 1, h32)});
    auto unusable = plan_for("mx.example", {rec(1, 1, 1, h32)});
    tp::DaneAnswers insecure = secure_with({rec(3, 1, 1, h32)});
    insecure.tlsa_secure = false;
    auto none = tp::decide_dane("mx.example", "mx.example", insecure);

    // DANE takes precedence over MTA-STS and the other levels.
    CHECK(tp::dane_effect(OutboundLevel::mta_sts, usable).action == DaneAction::dane_verify);
    CHECK(tp::dane_effect(OutboundLevel::opportunistic, usable).action == DaneAction::dane_verify);
    CHECK(tp::dane_effect(OutboundLevel::opportunistic, unusable).action == DaneAction::encrypt);
    CHECK(tp::dane_effect(OutboundLevel::mta_sts, none).action == DaneAction::keep_level);
    CHECK(tp::dane_effect(OutboundLevel::opportunistic, none).action == DaneAction::keep_level);
    // Level dane is mandatory: no DANE for the host defers.
    auto e = tp::dane_effect(OutboundLevel::dane, none);
    CHECK(e.action == DaneAction::defer);
    CHECK(e.reason.find("level dane requires DANE") != std::string::npos);
}

TEST_CASE("DANE verification with OpenSSL", "[dane][handshake]") {
    const auto& pki = tlstest::pki();
    const std::string leaf_spki = spki_sha256(pki.leaf.cert.get());
    const std::string inter_spki = spki_sha256(pki.intermediate.cert.get());

    SECTION("3 1 1 matching the leaf: verified, no name check") {
        auto v = dane_handshake(plan_for("unrelated-name.example", {rec(3, 1, 1, leaf_spki)}));
        INFO(v.error);
        CHECK(v.ok);
        CHECK(v.matched.rfind("3 1 1 ", 0) == 0);
    }
    SECTION("3 1 1 mismatch: not verified") {
        auto v = dane_handshake(plan_for("mx.example.com", {rec(3, 1, 1, std::string(32, '\x01'))}));
        CHECK_FALSE(v.ok);
        CHECK(v.error.find("no TLSA record matches") != std::string::npos);
    }
    SECTION("2 1 1 matching the intermediate, name matches the base domain") {
        auto v = dane_handshake(plan_for("mx.example.com", {rec(2, 1, 1, inter_spki)}));
        INFO(v.error);
        CHECK(v.ok);
        CHECK(v.matched.rfind("2 1 1 ", 0) == 0);
    }
    SECTION("2 1 1 matching the intermediate, name matches the MX host (alias case)") {
        auto v = dane_handshake(plan_for("target.example.net", {rec(2, 1, 1, inter_spki)}, "mail.example.com"));
        INFO(v.error);
        CHECK(v.ok);
    }
    SECTION("2 1 1 matching, but the certificate names neither base domain nor host") {
        auto v = dane_handshake(plan_for("other.example.org", {rec(2, 1, 1, inter_spki)}));
        CHECK_FALSE(v.ok);
        CHECK(v.error.find("DANE-TA name check") != std::string::npos);
    }
    SECTION("2 1 1 of a key not in the chain: not verified") {
        auto v = dane_handshake(plan_for("mx.example.com", {rec(2, 1, 1, spki_sha256(pki.other_root.cert.get()))}));
        CHECK_FALSE(v.ok);
    }
    SECTION("one matching record among mismatching ones is enough") {
        auto v = dane_handshake(plan_for("mx.example.com", {rec(3, 1, 1, std::string(32, '\x02')),
                                                             rec(3, 1, 1, leaf_spki)}));
        CHECK(v.ok);
    }
    SECTION("arm_dane refuses a plan with no records") {
        tp::DanePlan empty;
        empty.base_domain = "mx.example.com";
        auto cli = client_ctx();
        SSL* ssl = SSL_new(cli->native_handle());
        std::string err;
        CHECK_FALSE(tp::arm_dane(ssl, empty, err));
        CHECK(err.find("none of the 0") != std::string::npos);
        SSL_free(ssl);
    }
}

TEST_CASE("lookup_dane through a resolver", "[dane]") {
    const std::string h32(32, '\x05');
    const std::string tlsa = tlsa_rdata(rec(3, 1, 1, h32));
    core::StaticResolver r;
    r.add("secure.example", core::rrtype::A, reply(core::DnsStatus::ok, true, {kA}));
    r.add("_25._tcp.secure.example", core::rrtype::TLSA, reply(core::DnsStatus::ok, true, {tlsa}));
    r.add("insecure-tlsa.example", core::rrtype::A, reply(core::DnsStatus::ok, true, {kA}));
    r.add("_25._tcp.insecure-tlsa.example", core::rrtype::TLSA, reply(core::DnsStatus::ok, false, {tlsa}));
    r.add("unsigned.example", core::rrtype::A, reply(core::DnsStatus::ok, false, {kA}));
    r.add("_25._tcp.unsigned.example", core::rrtype::TLSA, reply(core::DnsStatus::ok, true, {tlsa}));
    r.add("broken.example", core::rrtype::A, reply(core::DnsStatus::ok, true, {kA}));
    r.add("_25._tcp.broken.example", core::rrtype::TLSA, reply(core::DnsStatus::temp_fail, false));
    r.add("v6only.example", core::rrtype::A, reply(core::DnsStatus::nodata, true));
    r.add("v6only.example", core::rrtype::AAAA, reply(core::DnsStatus::ok, true, {std::string(16, '\x01')}));
    r.add("_25._tcp.v6only.example", core::rrtype::TLSA, reply(core::DnsStatus::ok, true, {tlsa}));
    r.add("none.example", core::rrtype::A, reply(core::DnsStatus::ok, true, {kA}));
    r.add("_25._tcp.none.example", core::rrtype::TLSA, reply(core::DnsStatus::nxdomain, true));
    core::DnsReply alias = reply(core::DnsStatus::ok, true, {kA});
    alias.canonical_name = "target.provider.example";
    r.add("alias.example", core::rrtype::A, alias);
    r.add("_25._tcp.target.provider.example", core::rrtype::TLSA, reply(core::DnsStatus::ok, true, {tlsa}));
    r.add("_25._tcp.alias.example", core::rrtype::TLSA, reply(core::DnsStatus::nxdomain, true));

    auto p = run(tp::lookup_dane(r, "Secure.Example."));
    CHECK(p.state == DaneState::authenticated);
    CHECK(p.base_domain == "secure.example");
    CHECK(run(tp::lookup_dane(r, "insecure-tlsa.example")).state == DaneState::none);
    CHECK(run(tp::lookup_dane(r, "unsigned.example")).state == DaneState::none);
    CHECK(run(tp::lookup_dane(r, "broken.example")).state == DaneState::defer);
    CHECK(run(tp::lookup_dane(r, "v6only.example")).state == DaneState::authenticated);
    CHECK(run(tp::lookup_dane(r, "none.example")).state == DaneState::none);
    auto a = run(tp::lookup_dane(r, "alias.example"));
    CHECK(a.state == DaneState::authenticated);
    CHECK(a.base_domain == "target.provider.example");
    CHECK(a.reference_names() == std::vector<std::string>{"target.provider.example", "alias.example"});
}
