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
// OpenSSL's own parser; the bytes inside the extensions are parsed by the
// pure, fuzzed client_hello_fields.cpp (lists capped, GREASE values (RFC
// 8701) and signalling suites skipped).
#include <openssl/ssl.h>
#include <openssl/tls1.h>

#include "tlspolicy/client_hello_fields.hpp"
#include "tlspolicy/inbound.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {
namespace {

constexpr unsigned kSupportedVersionsExt = 43;  // RFC 8446 §4.2.1

void free_hello(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<OfferedHello*>(ptr); }

int hello_index() {
    static const int idx = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_hello);
    return idx;
}

void read_versions(SSL* ssl, OfferedHello& h) {
    const unsigned char* ext = nullptr;
    size_t len = 0;
    if (SSL_client_hello_get0_ext(ssl, kSupportedVersionsExt, &ext, &len) == 1)
        h.versions = parse_supported_versions(ext, len);
    if (!h.versions.empty()) return;
    // Without supported_versions the client names only its highest version
    // (RFC 5246 §7.4.1.2); lower ones may or may not be accepted.
    h.versions.push_back("<=" + tls_version_text(static_cast<unsigned>(SSL_client_hello_get0_legacy_version(ssl))));
}

void read_ciphers(SSL* ssl, OfferedHello& h) {
    const unsigned char* list = nullptr;
    const size_t len = SSL_client_hello_get0_ciphers(ssl, &list);
    h.ciphers = parse_cipher_suites(list, len, [ssl](const uint8_t* two) -> const char* {
        const SSL_CIPHER* c = SSL_CIPHER_find(ssl, two);
        return c ? SSL_CIPHER_get_name(c) : nullptr;
    });
}

void read_sni(SSL* ssl, OfferedHello& h) {
    const unsigned char* ext = nullptr;
    size_t len = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) == 1)
        h.server_name = parse_server_name(ext, len);
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
