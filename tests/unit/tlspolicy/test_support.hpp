// tests/unit/tlspolicy/test_support.hpp — certificates made on the fly with
// the OpenSSL API, a temporary directory, and an in-memory handshake over a
// BIO pair. Nothing here is checked-in key material.
#pragma once

// CertSpec is meant to be written with designated initializers naming only
// the fields a test cares about; the rest keep their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.hpp"

namespace tlstest {

// A profile with no overrides (avoids -Wmissing-field-initializers).
inline mxgate::conf::TlsProfile profile(mxgate::conf::TlsProfileName name) {
    mxgate::conf::TlsProfile p;
    p.name = name;
    return p;
}

struct PKeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct CtxFree { void operator()(SSL_CTX* p) const { SSL_CTX_free(p); } };
using PKey = std::unique_ptr<EVP_PKEY, PKeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Ctx = std::unique_ptr<SSL_CTX, CtxFree>;

enum class KeyType { ec_p256, rsa2048 };

struct CertSpec {
    std::string cn;
    std::string san;           // OpenSSL syntax: "DNS:a,DNS:b,IP:192.0.2.1"; "" = none
    long valid_from = -3600;   // seconds relative to now
    long valid_to = 86400 * 30;
    bool ca = false;
    KeyType key = KeyType::rsa2048;
};

struct KeyCert {
    PKey key;
    Cert cert;
};

// Signed by `issuer`, or self-signed when issuer is null.
KeyCert make_cert(const CertSpec& spec, const KeyCert* issuer = nullptr);
// A certificate whose only DNS SAN holds raw bytes (may contain a NUL).
KeyCert make_cert_with_raw_dns_san(const std::string& cn, const std::string& raw_dns);

std::string pem(X509* cert);
std::string pem(EVP_PKEY* key);

// mkdtemp directory, removed recursively at destruction.
struct TempDir {
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string path;
    std::string write(const std::string& name, const std::string& data) const;
};

// The test PKI: root CA -> intermediate -> leaves. Built once per process.
struct Pki {
    KeyCert root, intermediate, leaf, expired, other_root;
    TempDir dir;
    std::string root_file, other_root_file, chain_file, key_file, expired_chain_file,
        expired_key_file;
};
const Pki& pki();

// Runs client and server handshakes over a BIO pair until both finish or
// one fails. `client_sni` is applied with prepare_client_connection().
struct Handshake {
    bool ok = false;
    std::string error;          // OpenSSL error text when !ok
    std::string version, cipher;
    std::string server_saw_sni;
    bool client_got_ticket = false;
    long verify_result = -1;
    Cert peer;                  // client's view of the server certificate
    SSL* client = nullptr;      // valid until the Handshake is destroyed
    SSL* server = nullptr;
    Handshake() = default;
    Handshake(Handshake&&) noexcept;
    ~Handshake();
};
Handshake handshake(SSL_CTX* server, SSL_CTX* client, const std::string& client_sni = "");
// Same, with `prepare` run on the client SSL before the handshake (e.g.
// arming DANE); a false return stops with h.error = "prepare failed".
Handshake handshake(SSL_CTX* server, SSL_CTX* client, const std::function<bool(SSL*)>& prepare);

// A bare client/server context with a protocol range and cipher list, for
// playing peers that mxgate's profiles would never produce.
Ctx raw_client(int min_version, int max_version, const std::string& ciphers = "");
Ctx raw_server(int min_version, int max_version, const std::string& ciphers = "");

}  // namespace tlstest
