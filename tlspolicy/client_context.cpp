// tlspolicy/client_context.cpp — the outbound SSL_CTX (one per profile per
// config load) and the per-connection settings (Postfix's split between
// tls_client_init and tls_client_start).
//
// Verification model: SSL_VERIFY_PEER with a callback that always returns 1.
// The handshake therefore completes whatever the chain looks like, and
// OpenSSL keeps the first chain error it met in SSL_get_verify_result().
// The caller decides after the handshake, by level (SPEC §7): opportunistic
// and encrypt ignore the result; verify/mta-sts require X509_V_OK plus a
// name match (certificate_matches_host/list); dane and pins look at the
// certificate itself.
//
// SECURITY: the peer's chain is untrusted input handled by OpenSSL; the
// callback must never return 0 for "expected" errors nor 1 without the
// caller checking the result for mandatory-verification levels.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include "tlspolicy/dane.hpp"
#include "tlspolicy/detail.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {
namespace {

// Continue past every chain error; X509_STORE_CTX keeps the error code and
// OpenSSL copies it into the SSL's verify result.
int continue_always(int /*preverify_ok*/, X509_STORE_CTX* /*store*/) { return 1; }

bool is_ip_literal(const std::string& host) {
    unsigned char buf[16];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

ContextPtr make_client_context(const conf::TlsProfile& profile, const std::string& ca_file,
                               std::string& error) {
    auto settings = resolve_profile(profile, error);
    if (!settings) return nullptr;

    ContextPtr ctx;
    try {
        ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    } catch (const std::exception& e) {
        error = std::string("cannot create TLS client context: ") + e.what();
        return nullptr;
    }
    SSL_CTX* native = ctx->native_handle();
    if (!detail::apply_profile(native, *settings, error)) return nullptr;

    ERR_clear_error();
    if (ca_file == "system") {
        if (SSL_CTX_set_default_verify_paths(native) != 1) {
            error = "tls.ca_file: cannot load the system trust store: " + detail::openssl_errors();
            return nullptr;
        }
    } else {
        if (std::string e = detail::readable_file_error(ca_file); !e.empty()) {
            error = "tls.ca_file: " + e;
            return nullptr;
        }
        if (SSL_CTX_load_verify_locations(native, ca_file.c_str(), nullptr) != 1) {
            error = "tls.ca_file: " + ca_file + ": no usable PEM certificate (" +
                    detail::openssl_errors() + ")";
            return nullptr;
        }
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, &continue_always);
    // DANE (RFC 7672) is armed per connection (arm_dane); the context only
    // needs the digest table once. Harmless for connections that never arm it.
    if (!enable_dane(native, error)) return nullptr;
    // Bound the work an untrusted peer can make us do: no sane PKI is deeper.
    SSL_CTX_set_verify_depth(native, 10);
    return ctx;
}

bool prepare_client_connection(SSL* ssl, const std::string& server_name, std::string& error) {
    if (!ssl) {
        error = "no SSL object";
        return false;
    }
    std::string name = detail::ascii_lower(server_name);
    if (!name.empty() && name.back() == '.') name.pop_back();
    // RFC 6066 §3: HostName is a DNS name; literal IP addresses are not
    // permitted, and an empty name means "send no SNI".
    if (name.empty() || is_ip_literal(name)) return true;
    if (SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
        error = "cannot set SNI \"" + name + "\": " + detail::openssl_errors();
        return false;
    }
    return true;
}

}  // namespace mxgate::tlspolicy
