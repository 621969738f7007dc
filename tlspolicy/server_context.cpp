// tlspolicy/server_context.cpp — the inbound SSL_CTX: profile plus our
// certificate chain and private key, built once per config load or SIGHUP.
//
// SECURITY: the key file is read here and nowhere else. Errors name the
// config key and the path, never key material.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tlspolicy/detail.hpp"
#include "tlspolicy/inbound.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {

ContextPtr make_server_context(const conf::TlsProfile& profile, const std::string& cert_file,
                               const std::string& key_file, std::string& error) {
    auto settings = resolve_profile(profile, error);
    if (!settings) return nullptr;

    ContextPtr ctx;
    try {
        ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    } catch (const std::exception& e) {
        error = std::string("cannot create TLS server context: ") + e.what();
        return nullptr;
    }
    SSL_CTX* native = ctx->native_handle();
    if (!detail::apply_profile(native, *settings, error)) return nullptr;

    // Check readability first: OpenSSL's own text for a missing file is
    // "system lib", which tells an administrator nothing.
    if (std::string e = detail::readable_file_error(cert_file); !e.empty()) {
        error = "tls.certificate: " + e;
        return nullptr;
    }
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
        error = "tls.certificate: " + cert_file + ": no usable PEM certificate chain (" +
                detail::openssl_errors() + ")";
        return nullptr;
    }
    if (std::string e = detail::readable_file_error(key_file); !e.empty()) {
        error = "tls.key: " + e;
        return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        std::string why = detail::openssl_errors();
        // OpenSSL 3 loads the key and then compares it with the certificate
        // in one call; tell the two failures apart.
        if (why.find("values mismatch") != std::string::npos ||
            why.find("key values mismatch") != std::string::npos)
            error = "tls.key: " + key_file + " does not match the certificate in " + cert_file;
        else
            error = "tls.key: " + key_file + ": no usable PEM private key (" + why + ")";
        return nullptr;
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        ERR_clear_error();
        error = "tls.key: " + key_file + " does not match the certificate in " + cert_file;
        return nullptr;
    }
    // No client certificates are requested on any listener.
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
    // Remember what each client offers, for failed-handshake events (inbound.hpp).
    capture_client_hello(native);
    return ctx;
}

}  // namespace mxgate::tlspolicy
