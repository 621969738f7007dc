// tlspolicy/client_hello.cpp — records what an inbound client offered in its
// ClientHello (versions, cipher suites, SNI), so that a failed handshake can
// say *why* a sender could not meet our profile (issue 5: "the client's
// offered versions and ciphers as far as OpenSSL exposes them").
//
// OpenSSL calls the ClientHello callback before it negotiates the version or
// the cipher, so the record exists even when the handshake then fails with
// "unsupported protocol" or "no shared cipher". The callback never refuses.
//
// SECURITY: the ClientHello is attacker-controlled. Lengths come from
// OpenSSL's own parser; the lists are capped (kMaxCiphers) and GREASE
// values (RFC 8701) and signalling suites are skipped.
#include <openssl/ssl.h>
#include <openssl/tls1.h>

#include <cstdio>

#include "tlspolicy/inbound.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {
namespace {

constexpr size_t kMaxCiphers = 64;
constexpr unsigned kSupportedVersionsExt = 43;  // RFC 8446 §4.2.1

void free_hello(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<OfferedHello*>(ptr); }

int hello_index() {
    static const int idx = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_hello);
    return idx;
}

bool grease(unsigned v) { return (v & 0x0f0f) == 0x0a0a && ((v >> 8) == (v & 0xff)); }

std::string version_text(unsigned v) {
    switch (v) {
        case SSL3_VERSION: return "SSLv3";
        case TLS1_VERSION: return "TLSv1";
        case TLS1_1_VERSION: return "TLSv1.1";
        case TLS1_2_VERSION: return "TLSv1.2";
        case TLS1_3_VERSION: return "TLSv1.3";
        default: {
            char buf[16];
            std::snprintf(buf, sizeof buf, "0x%04X", v);
            return buf;
        }
    }
}

void read_versions(SSL* ssl, OfferedHello& h) {
    const unsigned char* ext = nullptr;
    size_t len = 0;
    if (SSL_client_hello_get0_ext(ssl, kSupportedVersionsExt, &ext, &len) == 1 && len >= 1) {
        const size_t list = ext[0];
        for (size_t i = 1; i + 1 < len && i + 1 <= list; i += 2) {
            const unsigned v = (static_cast<unsigned>(ext[i]) << 8) | ext[i + 1];
            if (!grease(v)) h.versions.push_back(version_text(v));
        }
        if (!h.versions.empty()) return;
    }
    // Without supported_versions the client names only its highest version
    // (RFC 5246 §7.4.1.2); lower ones may or may not be accepted.
    h.versions.push_back("<=" + version_text(static_cast<unsigned>(SSL_client_hello_get0_legacy_version(ssl))));
}

void read_ciphers(SSL* ssl, OfferedHello& h) {
    const unsigned char* list = nullptr;
    const size_t len = SSL_client_hello_get0_ciphers(ssl, &list);
    for (size_t i = 0; i + 1 < len && h.ciphers.size() < kMaxCiphers; i += 2) {
        const unsigned v = (static_cast<unsigned>(list[i]) << 8) | list[i + 1];
        if (grease(v) || v == 0x00FF || v == 0x5600) continue;  // GREASE, renegotiation/fallback SCSV
        if (const SSL_CIPHER* c = SSL_CIPHER_find(ssl, list + i)) {
            h.ciphers.emplace_back(SSL_CIPHER_get_name(c));
        } else {
            char buf[16];
            std::snprintf(buf, sizeof buf, "0x%04X", v);
            h.ciphers.emplace_back(buf);
        }
    }
}

void read_sni(SSL* ssl, OfferedHello& h) {
    const unsigned char* ext = nullptr;
    size_t len = 0;
    // server_name (RFC 6066 §3): list length(2), type(1), name length(2), name.
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) != 1 || len < 5) return;
    const size_t n = (static_cast<size_t>(ext[3]) << 8) | ext[4];
    if (ext[2] != 0 || 5 + n > len || n > 255) return;
    for (size_t i = 0; i < n; ++i) {
        const char c = static_cast<char>(ext[5 + i]);
        h.server_name += (c > 0x20 && c < 0x7f) ? c : '?';
    }
}

int on_client_hello(SSL* ssl, int*, void*) {
    auto* h = new OfferedHello;
    h->seen = true;
    read_versions(ssl, *h);
    read_ciphers(ssl, *h);
    read_sni(ssl, *h);
    // A second ClientHello (after HelloRetryRequest) replaces the first.
    delete static_cast<OfferedHello*>(SSL_get_ex_data(ssl, hello_index()));
    SSL_set_ex_data(ssl, hello_index(), h);
    return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace

void capture_client_hello(SSL_CTX* ctx) {
    hello_index();  // allocate the index before any handshake
    SSL_CTX_set_client_hello_cb(ctx, on_client_hello, nullptr);
}

OfferedHello offered_hello(SSL* ssl) {
    if (!ssl) return {};
    const auto* h = static_cast<const OfferedHello*>(SSL_get_ex_data(ssl, hello_index()));
    return h ? *h : OfferedHello{};
}

std::string join_list(const std::vector<std::string>& items, char sep) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) out += sep;
        out += i;
    }
    return out;
}

}  // namespace mxgate::tlspolicy
