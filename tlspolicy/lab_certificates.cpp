// tlspolicy/lab_certificates.cpp — the server context of a `lab` listener
// (SPEC §3, §8): deliberately bad certificates and old protocols, so an
// administrator can watch what a client or sending server does with them.
//
// Certificates, generated at every start (EC P-256, in <lab_dir>):
//   valid        the configured tls.certificate / tls.key, unchanged
//   self-signed  a self-signed leaf for the hostname (no issuer at all)
//   expired      a leaf for the hostname, issued by the lab CA, that expired
//                a year ago (notBefore two years ago)
//   wrong-name   a leaf issued by the lab CA for "wrong-name.invalid"
// The lab CA (<lab_dir>/ca.pem, key ca.key 0600) is created once and kept,
// so a tester can trust it (openssl s_client -CAfile, swaks --tls-ca-path)
// and see exactly one defect at a time: "certificate has expired" or a name
// mismatch, not "unable to get local issuer certificate" first.
//
// Protocols: `lab.protocols` (e.g. [TLSv1]) sets the version range to the
// listed versions' min..max on a compat-profile context (security level 0:
// OpenSSL 3 refuses TLS 1.0/1.1 handshakes above it). Without the key, the
// inbound profile is used as is.
//
// SECURITY: these contexts exist to be weak; only lab listeners get them,
// and a lab listener never relays or spools mail (relay/server/session_lab.cpp).
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "tlspolicy/detail.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {
namespace {

using PKeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

constexpr long kDay = 24 * 3600;

bool write_file(const std::string& path, const std::string& data, mode_t mode, std::string& error) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        error = "cannot create " + tmp + ": " + std::strerror(errno);
        return false;
    }
    bool ok = ::fchmod(fd, mode) == 0 && ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
    ok = ::fsync(fd) == 0 && ok;
    ok = ::close(fd) == 0 && ok;
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

std::string pem_key(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char* p = nullptr;
    const long n = BIO_get_mem_data(b.get(), &p);
    return n > 0 ? std::string(p, static_cast<size_t>(n)) : std::string();
}

std::string pem_cert(X509* cert) {
    std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_X509(b.get(), cert);
    char* p = nullptr;
    const long n = BIO_get_mem_data(b.get(), &p);
    return n > 0 ? std::string(p, static_cast<size_t>(n)) : std::string();
}

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    if (!ext) return false;
    const bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

// A certificate for `name` with validity [now+from_days, now+to_days],
// signed by issuer (or self-signed when issuer is null).
X509Ptr make_cert(EVP_PKEY* key, const std::string& name, long from_days, long to_days, bool ca, X509* issuer,
                  EVP_PKEY* issuer_key) {
    X509Ptr cert(X509_new(), X509_free);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x01);
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
    BN_free(bn);
    X509_set_version(cert.get(), 2);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert.get()), from_days * kDay) &&
         X509_gmtime_adj(X509_getm_notAfter(cert.get()), to_days * kDay);
    X509_NAME* subject = X509_get_subject_name(cert.get());
    ok = ok && X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                          reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0) == 1;
    ok = ok && X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject) == 1 &&
         X509_set_pubkey(cert.get(), key) == 1;
    X509* iss = issuer ? issuer : cert.get();
    if (ca) {
        ok = ok && add_ext(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             add_ext(cert.get(), iss, NID_subject_key_identifier, "hash");
    } else {
        const std::string san = "DNS:" + name;
        ok = ok && add_ext(cert.get(), iss, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(cert.get(), iss, NID_key_usage, "critical,digitalSignature") &&
             add_ext(cert.get(), iss, NID_ext_key_usage, "serverAuth") &&
             add_ext(cert.get(), iss, NID_subject_alt_name, san.c_str());
    }
    ok = ok && X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0;
    if (!ok) return X509Ptr(nullptr, X509_free);
    return cert;
}

bool make_dir(const std::string& dir, std::string& error) {
    if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return true;
    // the spool itself may not exist yet on a first start
    const auto slash = dir.rfind('/');
    if (errno == ENOENT && slash != std::string::npos && slash > 0) {
        std::string e;
        if (make_dir(dir.substr(0, slash), e) && (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST)) return true;
    }
    error = "cannot create " + dir + ": " + std::strerror(errno);
    return false;
}

// The lab CA: loaded from lab_dir, or created there once.
bool lab_ca(const std::string& lab_dir, X509Ptr& cert, PKeyPtr& key, std::string& error) {
    const std::string cert_file = lab_dir + "/ca.pem", key_file = lab_dir + "/ca.key";
    std::unique_ptr<BIO, decltype(&BIO_free)> cb(BIO_new_file(cert_file.c_str(), "r"), BIO_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> kb(BIO_new_file(key_file.c_str(), "r"), BIO_free);
    if (cb && kb) {
        cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
        key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
        if (cert && key) return true;
    }
    key.reset(EVP_EC_gen("P-256"));
    if (!key) {
        error = "cannot generate a key: " + detail::openssl_errors();
        return false;
    }
    cert = make_cert(key.get(), "mxgate lab CA (untrusted, for testing clients)", -1, 3650, true, nullptr, nullptr);
    if (!cert) {
        error = "cannot build the lab CA: " + detail::openssl_errors();
        return false;
    }
    return write_file(key_file, pem_key(key.get()), 0600, error) &&
           write_file(cert_file, pem_cert(cert.get()), 0644, error);
}

const char* kind_name(conf::LabConfig::Certificate c) {
    switch (c) {
        case conf::LabConfig::Certificate::expired: return "expired";
        case conf::LabConfig::Certificate::self_signed: return "self-signed";
        case conf::LabConfig::Certificate::wrong_name: return "wrong-name";
        case conf::LabConfig::Certificate::valid: return "valid";
    }
    return "valid";
}

}  // namespace

ContextPtr make_lab_server_context(const conf::LabConfig& lab, const conf::TlsProfile& inbound,
                                   const std::string& cert_file, const std::string& key_file,
                                   const std::string& hostname, const std::string& lab_dir, std::string& error) {
    std::string cert_path = cert_file, key_path = key_file;
    if (lab.certificate != conf::LabConfig::Certificate::valid) {
        if (!make_dir(lab_dir, error)) return nullptr;
        PKeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
        if (!key) {
            error = "lab: cannot generate a key: " + detail::openssl_errors();
            return nullptr;
        }
        X509Ptr ca_cert(nullptr, X509_free);
        PKeyPtr ca_key(nullptr, EVP_PKEY_free);
        X509Ptr leaf(nullptr, X509_free);
        switch (lab.certificate) {
            case conf::LabConfig::Certificate::self_signed:
                leaf = make_cert(key.get(), hostname, -1, 365, false, nullptr, nullptr);
                break;
            case conf::LabConfig::Certificate::expired:
            case conf::LabConfig::Certificate::wrong_name: {
                if (!lab_ca(lab_dir, ca_cert, ca_key, error)) {
                    error = "lab CA: " + error;
                    return nullptr;
                }
                const bool expired = lab.certificate == conf::LabConfig::Certificate::expired;
                leaf = make_cert(key.get(), expired ? hostname : std::string("wrong-name.invalid"),
                                 expired ? -730 : -1, expired ? -365 : 365, false, ca_cert.get(), ca_key.get());
                break;
            }
            case conf::LabConfig::Certificate::valid: break;
        }
        if (!leaf) {
            error = "lab: cannot build the certificate: " + detail::openssl_errors();
            return nullptr;
        }
        const std::string base = lab_dir + "/" + kind_name(lab.certificate);
        cert_path = base + ".pem";
        key_path = base + ".key";
        std::string chain = pem_cert(leaf.get());
        if (ca_cert) chain += pem_cert(ca_cert.get());
        if (!write_file(key_path, pem_key(key.get()), 0600, error) || !write_file(cert_path, chain, 0644, error))
            return nullptr;
    }

    conf::TlsProfile profile = inbound;
    int lo = 0, hi = 0;
    for (const auto& p : lab.protocols) {
        const int v = protocol_from_name(p);
        if (v == 0) continue;
        if (lo == 0 || v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (lo != 0) profile = conf::TlsProfile{conf::TlsProfileName::compat};
    ContextPtr ctx = make_server_context(profile, cert_path, key_path, error);
    if (!ctx) return nullptr;
    if (lo != 0) {
        SSL_CTX* native = ctx->native_handle();
        if (SSL_CTX_set_min_proto_version(native, lo) != 1 || SSL_CTX_set_max_proto_version(native, hi) != 1) {
            error = "lab.protocols: cannot set " + protocol_name(lo) + ".." + protocol_name(hi) + ": " +
                    detail::openssl_errors();
            return nullptr;
        }
    }
    return ctx;
}

}  // namespace mxgate::tlspolicy
