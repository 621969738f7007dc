// tlspolicy/profiles.cpp — the four named cipher profiles (SPEC §7) and
// their key-by-key overrides. docs/tls-profiles.md gives the reason for
// every value below; change both together.
//
// Validation happens here, once per config load, on a scratch SSL_CTX: an
// override that OpenSSL would silently ignore or that would leave a
// protocol version without ciphers is an error, never a quiet downgrade
// (SPEC §3: "typos must not silently disable a security setting").
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include <initializer_list>

#include "tlspolicy/detail.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {
namespace {

// TLS 1.3 suites (RFC 8446 §B.4). All three are AEAD; CCM suites are left
// out (rarely deployed, CCM_8 has a short tag). Same order everywhere.
constexpr std::string_view kSuites13 =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

// ECDHE + AEAD, TLS 1.2 (RFC 7525 §4.2 recommended suites, plus ChaCha20).
constexpr std::string_view kModern12 =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";

// Forward-secret AEAD with finite-field DHE, then ECDHE with CBC for TLS 1.2
// peers that lack GCM. Still no static RSA key exchange.
constexpr std::string_view kIntermediateExtra12 =
    "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:"
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA";

// Legacy only: DHE with CBC, then static RSA key exchange (no forward
// secrecy) as the last resort. Never RC4, 3DES, DES, export, NULL or anon.
constexpr std::string_view kCompatExtra12 =
    "DHE-RSA-AES256-SHA256:DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA:"
    "AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA";

constexpr std::string_view kGroupsModern = "X25519:P-256:P-384";
constexpr std::string_view kGroupsWide = "X25519:P-256:P-384:P-521";

// The TLS 1.3 suite names OpenSSL 3.0 knows. SSL_CTX_set_ciphersuites()
// silently skips unknown names, so overrides are checked against this list.
constexpr std::array<std::string_view, 5> kKnownSuites13 = {
    "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"};

std::string join(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (std::string_view p : parts) {
        if (p.empty()) continue;
        if (!out.empty() && out.back() != ':') out += ':';
        out += p;
    }
    return out;
}

ProfileSettings base_profile(conf::TlsProfileName name) {
    ProfileSettings s;
    s.ciphersuites = std::string(kSuites13);
    switch (name) {
    case conf::TlsProfileName::strict:
        // TLS 1.3 only. The 1.2 list is unused unless min_version is
        // overridden down to TLSv1.2, which then behaves like modern.
        s.min_version = TLS1_3_VERSION;
        s.ciphers = join({kModern12, "@SECLEVEL=2"});
        s.groups = std::string(kGroupsModern);
        break;
    case conf::TlsProfileName::modern:
        s.min_version = TLS1_2_VERSION;
        s.ciphers = join({kModern12, "@SECLEVEL=2"});
        s.groups = std::string(kGroupsModern);
        break;
    case conf::TlsProfileName::intermediate:
        s.min_version = TLS1_2_VERSION;
        s.ciphers = join({kModern12, kIntermediateExtra12, "@SECLEVEL=1"});
        s.groups = std::string(kGroupsWide);
        break;
    case conf::TlsProfileName::compat:
        // XXX @SECLEVEL=0: OpenSSL 3 counts the MD5+SHA-1 handshake
        // signatures of TLS 1.0/1.1 as below level 1, so without level 0 the
        // versions this profile exists for cannot complete. Level 0 also
        // lifts the minimum key sizes; that is the price of "compat".
        s.min_version = TLS1_VERSION;
        s.ciphers = join({kModern12, kIntermediateExtra12, kCompatExtra12, "@SECLEVEL=0"});
        s.groups = std::string(kGroupsWide);
        break;
    }
    return s;
}

std::string_view profile_level_token(const std::string& ciphers) {
    auto pos = ciphers.find("@SECLEVEL=");
    if (pos == std::string::npos) return {};
    auto end = ciphers.find(':', pos);
    return std::string_view(ciphers).substr(pos, end == std::string::npos ? std::string::npos
                                                                          : end - pos);
}

std::vector<std::string> split_colon(std::string_view s) {
    std::vector<std::string> out;
    while (true) {
        auto pos = s.find(':');
        out.emplace_back(s.substr(0, pos));
        if (pos == std::string_view::npos) break;
        s.remove_prefix(pos + 1);
    }
    return out;
}

bool check_ciphersuites(const std::string& list, std::string& error) {
    if (list.empty()) {
        // TLS 1.3 is never disabled (docs/tls-profiles.md).
        error = "ciphersuites: empty list would disable TLS 1.3";
        return false;
    }
    for (const std::string& name : split_colon(list)) {
        if (std::find(kKnownSuites13.begin(), kKnownSuites13.end(), name) ==
            kKnownSuites13.end()) {
            error = "ciphersuites: unknown TLS 1.3 ciphersuite \"" + name + "\"";
            return false;
        }
    }
    return true;
}

bool check_groups(const std::string& list, std::string& error) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_method()),
                                                          &SSL_CTX_free);
    if (!ctx) {
        error = "groups: cannot create an SSL context: " + detail::openssl_errors();
        return false;
    }
    if (list.empty()) {
        error = "groups: empty list";
        return false;
    }
    for (const std::string& name : split_colon(list)) {
        if (name.empty() || SSL_CTX_set1_groups_list(ctx.get(), name.c_str()) != 1) {
            ERR_clear_error();
            error = "groups: unknown group \"" + name + "\"";
            return false;
        }
    }
    return true;
}

// Builds a scratch context with the full settings and looks at what
// OpenSSL actually enables.
bool check_cipher_list(const ProfileSettings& s, std::string& error) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_method()),
                                                          &SSL_CTX_free);
    if (!ctx) {
        error = "ciphers: cannot create an SSL context: " + detail::openssl_errors();
        return false;
    }
    if (SSL_CTX_set_cipher_list(ctx.get(), s.ciphers.c_str()) != 1) {
        ERR_clear_error();
        error = "ciphers: \"" + s.ciphers + "\" selects no TLS 1.2 cipher";
        return false;
    }
    STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
        // SECURITY: at @SECLEVEL=0 OpenSSL would offer these if asked to.
        if (SSL_CIPHER_get_auth_nid(c) == NID_auth_null) {
            error = "ciphers: \"" + s.ciphers + "\" enables unauthenticated cipher " +
                    SSL_CIPHER_get_name(c);
            return false;
        }
        if (SSL_CIPHER_get_cipher_nid(c) == NID_undef) {
            error = "ciphers: \"" + s.ciphers + "\" enables unencrypted cipher " +
                    SSL_CIPHER_get_name(c);
            return false;
        }
    }
    if (s.min_version < TLS1_2_VERSION && SSL_CTX_get_security_level(ctx.get()) > 0) {
        error = "min_version " + protocol_name(s.min_version) +
                ": OpenSSL 3 refuses TLS 1.0/1.1 above security level 0; add "
                "@SECLEVEL=0 to ciphers (profile compat does)";
        return false;
    }
    return true;
}

}  // namespace

int protocol_from_name(std::string_view name) {
    if (name == "TLSv1" || name == "TLSv1.0") return TLS1_VERSION;
    if (name == "TLSv1.1") return TLS1_1_VERSION;
    if (name == "TLSv1.2") return TLS1_2_VERSION;
    if (name == "TLSv1.3") return TLS1_3_VERSION;
    return 0;
}

std::string protocol_name(int version) {
    switch (version) {
    case TLS1_VERSION: return "TLSv1";
    case TLS1_1_VERSION: return "TLSv1.1";
    case TLS1_2_VERSION: return "TLSv1.2";
    case TLS1_3_VERSION: return "TLSv1.3";
    case 0: return "highest";
    default: return "unknown";
    }
}

std::optional<ProfileSettings> resolve_profile(const conf::TlsProfile& p, std::string& error) {
    ProfileSettings s = base_profile(p.name);
    if (p.min_version) {
        int v = protocol_from_name(*p.min_version);
        if (v == 0) {
            error = "min_version: unknown protocol \"" + *p.min_version +
                    "\" (expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)";
            return std::nullopt;
        }
        s.min_version = v;
    }
    if (p.ciphers) {
        // An override without @SECLEVEL keeps the profile's level, so that
        // replacing the list never silently changes key-size rules.
        std::string level(profile_level_token(s.ciphers));
        s.ciphers = *p.ciphers;
        if (profile_level_token(s.ciphers).empty() && !level.empty())
            s.ciphers = join({s.ciphers, level});
    }
    if (p.ciphersuites) s.ciphersuites = *p.ciphersuites;
    if (p.groups) s.groups = *p.groups;

    if (!check_cipher_list(s, error) || !check_ciphersuites(s.ciphersuites, error) ||
        !check_groups(s.groups, error))
        return std::nullopt;
    return s;
}

}  // namespace mxgate::tlspolicy
