// tests/unit/tlspolicy/test_support.cpp — see test_support.hpp.
#include "test_support.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tlspolicy/tlspolicy.hpp"

namespace tlstest {
namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        char buf[256] = "";
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        throw std::runtime_error(std::string("test support: ") + what + ": " + buf);
    }
}

PKey make_key(KeyType type) {
    EVP_PKEY* key = type == KeyType::ec_p256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
    check(key != nullptr, "key generation");
    return PKey(key);
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    check(ext != nullptr, value.c_str());
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

Cert base_cert(const std::string& cn, long from, long to, EVP_PKEY* key) {
    Cert cert(X509_new());
    X509_set_version(cert.get(), 2);
    unsigned char serial[8];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), from);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), to);
    if (!cn.empty())
        X509_NAME_add_entry_by_NID(X509_get_subject_name(cert.get()), NID_commonName,
                                   MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_pubkey(cert.get(), key);
    return cert;
}

}  // namespace

KeyCert make_cert(const CertSpec& spec, const KeyCert* issuer) {
    KeyCert out;
    out.key = make_key(spec.key);
    out.cert = base_cert(spec.cn, spec.valid_from, spec.valid_to, out.key.get());
    X509* issuer_cert = issuer ? issuer->cert.get() : out.cert.get();
    EVP_PKEY* issuer_key = issuer ? issuer->key.get() : out.key.get();
    X509_set_issuer_name(out.cert.get(), X509_get_subject_name(issuer_cert));
    add_ext(out.cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
    if (spec.ca) {
        add_ext(out.cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(out.cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(out.cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(out.cert.get(), issuer_cert, NID_ext_key_usage, "serverAuth");
    }
    if (issuer) add_ext(out.cert.get(), issuer_cert, NID_authority_key_identifier, "keyid");
    if (!spec.san.empty()) add_ext(out.cert.get(), issuer_cert, NID_subject_alt_name, spec.san);
    check(X509_sign(out.cert.get(), issuer_key, EVP_sha256()) > 0, "sign");
    return out;
}

KeyCert make_cert_with_raw_dns_san(const std::string& cn, const std::string& raw_dns) {
    KeyCert out;
    out.key = make_key(KeyType::ec_p256);
    out.cert = base_cert(cn, -3600, 86400, out.key.get());
    X509_set_issuer_name(out.cert.get(), X509_get_subject_name(out.cert.get()));
    GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
    GENERAL_NAME* gen = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    ASN1_STRING_set(ia5, raw_dns.data(), static_cast<int>(raw_dns.size()));
    GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
    sk_GENERAL_NAME_push(names, gen);
    X509_add1_ext_i2d(out.cert.get(), NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(names);
    check(X509_sign(out.cert.get(), out.key.get(), EVP_sha256()) > 0, "sign");
    return out;
}

std::string pem(X509* cert) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
}

std::string pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
}

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mxgate-tls-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

std::string TempDir::write(const std::string& name, const std::string& data) const {
    std::string file = path + "/" + name;
    std::ofstream(file, std::ios::binary) << data;
    return file;
}

const Pki& pki() {
    static const Pki* instance = [] {
        auto* p = new Pki;
        p->root = make_cert({.cn = "mxgate test root", .ca = true, .key = KeyType::ec_p256});
        p->intermediate = make_cert(
            {.cn = "mxgate test intermediate", .ca = true, .key = KeyType::ec_p256}, &p->root);
        p->leaf = make_cert({.cn = "mx.example.com", .san = "DNS:mx.example.com,DNS:mail.example.com"},
                            &p->intermediate);
        p->expired = make_cert({.cn = "mx.example.com", .san = "DNS:mx.example.com",
                                .valid_from = -86400 * 10, .valid_to = -86400},
                               &p->intermediate);
        p->other_root = make_cert({.cn = "some other root", .ca = true, .key = KeyType::ec_p256});
        p->root_file = p->dir.write("root.pem", pem(p->root.cert.get()));
        p->other_root_file = p->dir.write("other-root.pem", pem(p->other_root.cert.get()));
        p->chain_file = p->dir.write(
            "fullchain.pem", pem(p->leaf.cert.get()) + pem(p->intermediate.cert.get()));
        p->key_file = p->dir.write("privkey.pem", pem(p->leaf.key.get()));
        p->expired_chain_file = p->dir.write(
            "expired.pem", pem(p->expired.cert.get()) + pem(p->intermediate.cert.get()));
        p->expired_key_file = p->dir.write("expired.key", pem(p->expired.key.get()));
        return p;
    }();
    return *instance;
}

Handshake::Handshake(Handshake&& o) noexcept
    : ok(o.ok), error(std::move(o.error)), version(std::move(o.version)),
      cipher(std::move(o.cipher)), server_saw_sni(std::move(o.server_saw_sni)),
      client_got_ticket(o.client_got_ticket), verify_result(o.verify_result),
      peer(std::move(o.peer)), client(o.client), server(o.server) {
    o.client = o.server = nullptr;
}

Handshake::~Handshake() {
    SSL_free(client);
    SSL_free(server);
}

namespace {

std::string drain_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

}  // namespace

Handshake handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, const std::string& client_sni) {
    return handshake(server_ctx, client_ctx, [&](SSL* ssl) {
        if (client_sni.empty()) return true;
        std::string err;
        return mxgate::tlspolicy::prepare_client_connection(ssl, client_sni, err);
    });
}

Handshake handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, const std::function<bool(SSL*)>& prepare) {
    ERR_clear_error();
    Handshake h;
    h.client = SSL_new(client_ctx);
    h.server = SSL_new(server_ctx);
    BIO *client_bio = nullptr, *server_bio = nullptr;
    BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
    SSL_set_bio(h.client, client_bio, client_bio);
    SSL_set_bio(h.server, server_bio, server_bio);
    SSL_set_connect_state(h.client);
    SSL_set_accept_state(h.server);
    if (prepare && !prepare(h.client)) {
        h.error = "prepare failed";
        return h;
    }
    bool client_done = false, server_done = false;
    for (int round = 0; round < 100 && !(client_done && server_done); ++round) {
        if (!client_done) {
            int r = SSL_do_handshake(h.client);
            if (r == 1) client_done = true;
            else if (int e = SSL_get_error(h.client, r); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                h.error = "client: " + drain_errors();
                // Let the server read the alert for a complete picture.
                SSL_do_handshake(h.server);
                return h;
            }
        }
        if (!server_done) {
            int r = SSL_do_handshake(h.server);
            if (r == 1) server_done = true;
            else if (int e = SSL_get_error(h.server, r); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                h.error = "server: " + drain_errors();
                SSL_do_handshake(h.client);
                return h;
            }
        }
    }
    if (!(client_done && server_done)) {
        h.error = "handshake did not finish";
        return h;
    }
    h.ok = true;
    h.version = SSL_get_version(h.client);
    h.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(h.client));
    if (const char* sni = SSL_get_servername(h.server, TLSEXT_NAMETYPE_host_name))
        h.server_saw_sni = sni;
    h.verify_result = SSL_get_verify_result(h.client);
    h.peer.reset(SSL_get1_peer_certificate(h.client));
    // Let post-handshake messages (TLS 1.3 NewSessionTicket) reach the client.
    char byte = 'x';
    SSL_write(h.server, &byte, 1);
    SSL_read(h.client, &byte, 1);
    SSL_SESSION* session = SSL_get_session(h.client);
    h.client_got_ticket = session && SSL_SESSION_has_ticket(session);
    return h;
}

Ctx raw_client(int min_version, int max_version, const std::string& ciphers) {
    Ctx ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(ctx.get(), min_version);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
    if (!ciphers.empty()) check(SSL_CTX_set_cipher_list(ctx.get(), ciphers.c_str()) == 1, "ciphers");
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    return ctx;
}

Ctx raw_server(int min_version, int max_version, const std::string& ciphers) {
    Ctx ctx(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_set_min_proto_version(ctx.get(), min_version);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
    if (!ciphers.empty()) check(SSL_CTX_set_cipher_list(ctx.get(), ciphers.c_str()) == 1, "ciphers");
    check(SSL_CTX_use_certificate_chain_file(ctx.get(), pki().chain_file.c_str()) == 1, "chain");
    check(SSL_CTX_use_PrivateKey_file(ctx.get(), pki().key_file.c_str(), SSL_FILETYPE_PEM) == 1,
          "key");
    return ctx;
}

}  // namespace tlstest
