// tlspolicy/session_info.cpp — describe(): what a finished handshake
// negotiated, for the Received: line (SPEC §6) and tls.handshake events.
//
// SECURITY: peer_subject is peer-controlled text; it is rendered with
// RFC 2253 escaping and without multi-line output, and the event writer
// escapes it again for JSON.
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {
namespace {

std::string subject_text(X509* cert) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio) return {};
    // RFC 2253 order and escaping (XN_FLAG_RFC2253 escapes control
    // characters and bytes >= 0x80 as \XX), all on one line.
    if (X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
        return {};
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string{};
}

}  // namespace

SessionInfo describe(SSL* ssl) {
    SessionInfo info;
    if (!ssl) return info;
    info.version = SSL_get_version(ssl);
    if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) {
        info.cipher = SSL_CIPHER_get_name(c);
        info.bits = SSL_CIPHER_get_bits(c, nullptr);
    }
    std::unique_ptr<X509, decltype(&X509_free)> peer(SSL_get1_peer_certificate(ssl), &X509_free);
    if (!peer) {
        info.verify_error = "no peer certificate";
        return info;
    }
    info.peer_subject = subject_text(peer.get());
    info.peer_pin = spki_pin(peer.get());
    long result = SSL_get_verify_result(ssl);
    info.chain_verified = result == X509_V_OK;
    if (!info.chain_verified) info.verify_error = X509_verify_cert_error_string(result);
    return info;
}

}  // namespace mxgate::tlspolicy
