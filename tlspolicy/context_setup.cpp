// tlspolicy/context_setup.cpp — applies a resolved profile to an SSL_CTX,
// plus the small helpers the other tlspolicy files share (detail.hpp).
//
// Fixed options for every mxgate context (docs/tls-profiles.md):
//   - no TLS compression (CRIME; RFC 7525 §3.3)
//   - no renegotiation at all (SSL_OP_NO_RENEGOTIATION; RFC 7525 §3.5,
//     TLS 1.3 has none; removes the client-initiated DoS vector)
//   - the server's cipher order wins (RFC 7525 §4.2)
//   - no session tickets and no session cache (RFC 7525 §3.4): SMTP peers
//     reconnect rarely, and OpenSSL's process-wide ticket key never rotates,
//     so a ticket key leak would expose every session since start (RFC 8446
//     §2.2 notes the loss of forward secrecy for resumption without (EC)DHE).
//   - the protocol range alone decides versions; SSL_OP_NO_TLSv1_3 and the
//     other per-version "NO" flags are always cleared.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tlspolicy/detail.hpp"

namespace mxgate::tlspolicy::detail {

std::string openssl_errors() {
    std::string out;
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        // Prefer the short reason ("no such file") when OpenSSL has one.
        const char* reason = ERR_reason_error_string(code);
        out += reason ? reason : buf;
    }
    return out;
}

std::string readable_file_error(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return "cannot read " + path + ": " + std::strerror(errno);
    std::fclose(f);
    return {};
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool apply_profile(SSL_CTX* ctx, const ProfileSettings& s, std::string& error) {
    ERR_clear_error();
    SSL_CTX_clear_options(ctx, SSL_OP_NO_SSL_MASK);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    // Built-in RFC 7919 parameters sized to the certificate for DHE suites.
    SSL_CTX_set_dh_auto(ctx, 1);

    if (SSL_CTX_set_min_proto_version(ctx, s.min_version) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, s.max_version) != 1) {
        error = "cannot set protocol range " + protocol_name(s.min_version) + " to " +
                protocol_name(s.max_version) + ": " + openssl_errors();
        return false;
    }
    // The cipher string may carry @SECLEVEL; it sets the context's level.
    if (SSL_CTX_set_cipher_list(ctx, s.ciphers.c_str()) != 1) {
        error = "ciphers: \"" + s.ciphers + "\": " + openssl_errors();
        return false;
    }
    if (SSL_CTX_set_ciphersuites(ctx, s.ciphersuites.c_str()) != 1) {
        error = "ciphersuites: \"" + s.ciphersuites + "\": " + openssl_errors();
        return false;
    }
    if (SSL_CTX_set1_groups_list(ctx, s.groups.c_str()) != 1) {
        error = "groups: \"" + s.groups + "\": " + openssl_errors();
        return false;
    }
    return true;
}

}  // namespace mxgate::tlspolicy::detail
