// tests/unit/tlspolicy/profiles_test.cpp — profile resolution table and
// override validation (SPEC §3, §7; docs/tls-profiles.md).
#include <catch2/catch.hpp>

#include <openssl/ssl.h>

#include "test_support.hpp"
#include "tlspolicy/tlspolicy.hpp"

using mxgate::conf::TlsProfile;
using mxgate::conf::TlsProfileName;
namespace tp = mxgate::tlspolicy;

namespace {

tp::ProfileSettings resolve_ok(const TlsProfile& p) {
    std::string error;
    auto s = tp::resolve_profile(p, error);
    INFO(error);
    REQUIRE(s);
    CHECK(error.empty());
    return *s;
}

// The TLS <= 1.2 ciphers a settings object really enables.
std::vector<const SSL_CIPHER*> tls12_ciphers(const tp::ProfileSettings& s) {
    tlstest::Ctx ctx(SSL_CTX_new(TLS_method()));
    REQUIRE(SSL_CTX_set_cipher_list(ctx.get(), s.ciphers.c_str()) == 1);
    std::vector<const SSL_CIPHER*> out;
    STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
        if (std::string(SSL_CIPHER_get_version(c)) != "TLSv1.3") out.push_back(c);
    }
    return out;
}

}  // namespace

TEST_CASE("protocol names round-trip", "[profiles]") {
    CHECK(tp::protocol_from_name("TLSv1") == TLS1_VERSION);
    CHECK(tp::protocol_from_name("TLSv1.1") == TLS1_1_VERSION);
    CHECK(tp::protocol_from_name("TLSv1.2") == TLS1_2_VERSION);
    CHECK(tp::protocol_from_name("TLSv1.3") == TLS1_3_VERSION);
    CHECK(tp::protocol_from_name("SSLv3") == 0);
    CHECK(tp::protocol_from_name("tlsv1.2") == 0);  // OpenSSL spelling only (SPEC §3)
    CHECK(tp::protocol_from_name("") == 0);
    for (int v : {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION})
        CHECK(tp::protocol_from_name(tp::protocol_name(v)) == v);
}

TEST_CASE("profile table", "[profiles]") {
    struct Row {
        TlsProfileName name;
        int min_version;
        const char* seclevel;
        const char* groups;
    };
    const Row rows[] = {
        {TlsProfileName::strict, TLS1_3_VERSION, "@SECLEVEL=2", "X25519:P-256:P-384"},
        {TlsProfileName::modern, TLS1_2_VERSION, "@SECLEVEL=2", "X25519:P-256:P-384"},
        {TlsProfileName::intermediate, TLS1_2_VERSION, "@SECLEVEL=1", "X25519:P-256:P-384:P-521"},
        {TlsProfileName::compat, TLS1_VERSION, "@SECLEVEL=0", "X25519:P-256:P-384:P-521"},
    };
    for (const Row& row : rows) {
        CAPTURE(static_cast<int>(row.name));
        auto s = resolve_ok(tlstest::profile(row.name));
        CHECK(s.min_version == row.min_version);
        CHECK(s.max_version == 0);  // never cap below TLS 1.3
        CHECK(s.ciphers.find(row.seclevel) != std::string::npos);
        CHECK(s.groups == row.groups);
        CHECK(s.ciphersuites ==
              "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256");
        for (const SSL_CIPHER* c : tls12_ciphers(s)) {
            CAPTURE(SSL_CIPHER_get_name(c));
            // Never: NULL, anonymous, RC4, DES, 3DES in any profile.
            CHECK(SSL_CIPHER_get_auth_nid(c) != NID_auth_null);
            int cipher = SSL_CIPHER_get_cipher_nid(c);
            CHECK(cipher != NID_undef);
            CHECK(cipher != NID_rc4);
            CHECK(cipher != NID_des_ede3_cbc);
            CHECK(cipher != NID_des_cbc);
        }
    }
}

TEST_CASE("modern is ECDHE + AEAD only; intermediate is forward-secret only", "[profiles]") {
    auto modern = resolve_ok(tlstest::profile(TlsProfileName::modern));
    auto ciphers = tls12_ciphers(modern);
    REQUIRE(ciphers.size() == 6);
    for (const SSL_CIPHER* c : ciphers) {
        CAPTURE(SSL_CIPHER_get_name(c));
        CHECK(SSL_CIPHER_get_kx_nid(c) == NID_kx_ecdhe);
        CHECK(SSL_CIPHER_is_aead(c) == 1);
    }
    // strict carries the same 1.2 list (used only if min_version is lowered).
    CHECK(resolve_ok(tlstest::profile(TlsProfileName::strict)).ciphers == modern.ciphers);

    auto intermediate = resolve_ok(tlstest::profile(TlsProfileName::intermediate));
    bool has_cbc = false, has_dhe = false;
    for (const SSL_CIPHER* c : tls12_ciphers(intermediate)) {
        CAPTURE(SSL_CIPHER_get_name(c));
        int kx = SSL_CIPHER_get_kx_nid(c);
        CHECK((kx == NID_kx_ecdhe || kx == NID_kx_dhe));
        has_cbc |= SSL_CIPHER_is_aead(c) == 0;
        has_dhe |= kx == NID_kx_dhe;
    }
    CHECK(has_cbc);
    CHECK(has_dhe);

    auto compat = resolve_ok(tlstest::profile(TlsProfileName::compat));
    bool has_rsa_kx = false;
    for (const SSL_CIPHER* c : tls12_ciphers(compat)) has_rsa_kx |= SSL_CIPHER_get_kx_nid(c) == NID_kx_rsa;
    CHECK(has_rsa_kx);
}

TEST_CASE("overrides apply key by key", "[profiles]") {
    TlsProfile p = tlstest::profile(TlsProfileName::modern);
    p.min_version = "TLSv1.3";
    auto s = resolve_ok(p);
    CHECK(s.min_version == TLS1_3_VERSION);
    CHECK(s.groups == "X25519:P-256:P-384");  // untouched keys keep the profile's value

    TlsProfile strict = tlstest::profile(TlsProfileName::strict);
    strict.min_version = "TLSv1.2";
    CHECK(resolve_ok(strict).min_version == TLS1_2_VERSION);

    TlsProfile c = tlstest::profile(TlsProfileName::modern);
    c.ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
    // An override without @SECLEVEL keeps the profile's level.
    CHECK(resolve_ok(c).ciphers == "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=2");
    TlsProfile legacy = tlstest::profile(TlsProfileName::compat);
    legacy.ciphers = "AES128-SHA";
    CHECK(resolve_ok(legacy).ciphers == "AES128-SHA:@SECLEVEL=0");
    TlsProfile explicit_level = tlstest::profile(TlsProfileName::modern);
    explicit_level.ciphers = "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=3";
    CHECK(resolve_ok(explicit_level).ciphers == "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=3");

    TlsProfile suites = tlstest::profile(TlsProfileName::strict);
    suites.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
    CHECK(resolve_ok(suites).ciphersuites == "TLS_CHACHA20_POLY1305_SHA256");
    TlsProfile groups = tlstest::profile(TlsProfileName::strict);
    groups.groups = "P-384:X448";
    CHECK(resolve_ok(groups).groups == "P-384:X448");
}

TEST_CASE("bad overrides are errors with the reason", "[profiles]") {
    struct Row {
        TlsProfileName name;
        std::optional<std::string> min_version, ciphers, ciphersuites, groups;
        const char* expect;
    };
    const Row rows[] = {
        {TlsProfileName::modern, "TLSv1.4", {}, {}, {}, "min_version: unknown protocol \"TLSv1.4\""},
        {TlsProfileName::modern, "SSLv3", {}, {}, {}, "min_version: unknown protocol \"SSLv3\""},
        {TlsProfileName::modern, {}, "NOPE-NOTHING", {}, {}, "selects no TLS 1.2 cipher"},
        {TlsProfileName::modern, {}, "", {}, {}, "selects no TLS 1.2 cipher"},
        {TlsProfileName::compat, {}, "aNULL", {}, {}, "unauthenticated cipher"},
        {TlsProfileName::compat, {}, "NULL-SHA256", {}, {}, "unencrypted cipher NULL-SHA256"},
        {TlsProfileName::modern, {}, {}, "TLS_FOO_SHA256", {}, "unknown TLS 1.3 ciphersuite \"TLS_FOO_SHA256\""},
        {TlsProfileName::modern, {}, {}, "TLS_AES_128_GCM_SHA256:bogus", {}, "\"bogus\""},
        {TlsProfileName::modern, {}, {}, "", {}, "would disable TLS 1.3"},
        {TlsProfileName::modern, {}, {}, {}, "X25519:P-999", "unknown group \"P-999\""},
        {TlsProfileName::modern, {}, {}, {}, "", "groups: empty"},
        // TLS 1.0 at security level > 0 cannot complete in OpenSSL 3.
        {TlsProfileName::modern, "TLSv1", {}, {}, {}, "@SECLEVEL=0"},
        {TlsProfileName::compat, {}, "AES128-SHA:@SECLEVEL=1", {}, {}, "@SECLEVEL=0"},
    };
    for (const Row& row : rows) {
        TlsProfile p{row.name, row.min_version, row.ciphers, row.ciphersuites, row.groups};
        std::string error;
        auto s = tp::resolve_profile(p, error);
        CAPTURE(row.expect, error);
        CHECK_FALSE(s);
        CHECK(error.find(row.expect) != std::string::npos);
    }
}

TEST_CASE("compat with min_version TLSv1.2 needs no seclevel 0", "[profiles]") {
    TlsProfile p = tlstest::profile(TlsProfileName::compat);
    p.min_version = "TLSv1.2";
    p.ciphers = "ECDHE-RSA-AES128-SHA:@SECLEVEL=1";
    auto s = resolve_ok(p);
    CHECK(s.min_version == TLS1_2_VERSION);
}
