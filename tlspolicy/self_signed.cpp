// tlspolicy/self_signed.cpp — ensure_self_signed(): a development
// certificate so the shipped config starts without any setup (SPEC §2).
//
// Creates, when cert_file does not exist:
//   - an EC P-256 key (or reuses key_file if it already exists: a key the
//     administrator put there is never overwritten);
//   - an X.509v3 certificate: subject and issuer CN=hostname, SAN
//     DNS:hostname (IP:… for an address literal), 128-bit random serial
//     (RFC 5280 §4.1.2.2: positive, at most 20 octets), valid from now for
//     365 days, basicConstraints CA:FALSE, keyUsage digitalSignature,
//     extendedKeyUsage serverAuth, signed with ECDSA-SHA256.
// Files are written to a temporary name in the target directory, fsync'ed,
// renamed, and the directory fsync'ed: key 0600, certificate 0644. Missing
// parent directories are created 0700. The key is written before the
// certificate, because the certificate's existence is what marks the pair
// as complete.
//
// SECURITY: the private key never exists on disk with wider permissions
// than 0600 (the temporary file is created with O_EXCL and mode 0600).
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "tlspolicy/detail.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
    void operator()(T* p) const { F(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string errno_text() { return std::strerror(errno); }

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

// mkdir -p with mode 0700 for every directory it creates.
bool make_dirs(const std::string& dir, std::string& error) {
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return true;
        error = dir + " exists and is not a directory";
        return false;
    }
    std::string parent = parent_of(dir);
    if (parent != dir && !make_dirs(parent, error)) return false;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        error = "cannot create directory " + dir + ": " + errno_text();
        return false;
    }
    return true;
}

bool write_atomically(const std::string& path, const std::string& data, mode_t mode,
                      std::string& error) {
    unsigned char rnd[6];
    RAND_bytes(rnd, sizeof rnd);
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp.%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
                  rnd[3], rnd[4], rnd[5]);
    std::string tmp = path + suffix;
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        error = "cannot create " + tmp + ": " + errno_text();
        return false;
    }
    bool ok = ::fchmod(fd, mode) == 0;  // the umask must not widen or narrow it
    size_t done = 0;
    while (ok && done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false;
        else done += static_cast<size_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    int saved = errno;
    ok = (::close(fd) == 0) && ok;
    if (!ok) {
        errno = saved;
        error = "cannot write " + tmp + ": " + errno_text();
        ::unlink(tmp.c_str());
        return false;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        error = "cannot rename " + tmp + " to " + path + ": " + errno_text();
        ::unlink(tmp.c_str());
        return false;
    }
    int dfd = ::open(parent_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return true;
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string{};
}

bool add_ext(X509* cert, int nid, const std::string& value) {
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (!ext) return false;
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

bool is_ip_literal(const std::string& host) {
    unsigned char buf[16];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

X509Ptr make_certificate(EVP_PKEY* key, const std::string& hostname, std::string& error) {
    X509Ptr cert(X509_new());
    if (!cert) return nullptr;
    X509_set_version(cert.get(), 2);  // v3

    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) {
        error = "no randomness for the serial number";
        return nullptr;
    }
    serial[0] &= 0x7f;  // positive
    serial[0] |= 0x01;  // and never shorter than it looks
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
    BN_free(bn);

    ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) != nullptr &&
         X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600) != nullptr;

    X509_NAME* name = X509_get_subject_name(cert.get());
    ok = ok && X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                          reinterpret_cast<const unsigned char*>(hostname.c_str()),
                                          -1, -1, 0) == 1 &&
         X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key) == 1;

    std::string san = (is_ip_literal(hostname) ? "IP:" : "DNS:") + hostname;
    ok = ok && add_ext(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(cert.get(), NID_key_usage, "critical,digitalSignature") &&
         add_ext(cert.get(), NID_ext_key_usage, "serverAuth") &&
         add_ext(cert.get(), NID_subject_key_identifier, "hash") &&
         add_ext(cert.get(), NID_subject_alt_name, san);
    ok = ok && X509_sign(cert.get(), key, EVP_sha256()) > 0;
    if (!ok) {
        error = "cannot build the certificate: " + detail::openssl_errors();
        return nullptr;
    }
    return cert;
}

PKeyPtr load_key(const std::string& key_file, std::string& error) {
    BioPtr in(BIO_new_file(key_file.c_str(), "r"));
    if (!in) {
        error = "tls.key: " + detail::readable_file_error(key_file);
        return nullptr;
    }
    PKeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
    if (!key) error = "tls.key: " + key_file + ": no usable PEM private key (" +
                      detail::openssl_errors() + ")";
    return key;
}

}  // namespace

bool ensure_self_signed(const std::string& cert_file, const std::string& key_file,
                        const std::string& hostname, std::string& error) {
    struct stat st;
    if (::stat(cert_file.c_str(), &st) == 0) return true;
    if (errno != ENOENT) {
        error = "tls.certificate: cannot stat " + cert_file + ": " + errno_text();
        return false;
    }
    if (hostname.empty() || hostname.find_first_of(",\n\r\0", 0, 4) != std::string::npos) {
        error = "hostname: \"" + hostname + "\" is not usable as a certificate name";
        return false;
    }
    if (!make_dirs(parent_of(key_file), error) || !make_dirs(parent_of(cert_file), error)) {
        error = "tls.certificate: " + error;
        return false;
    }

    PKeyPtr key;
    bool new_key = ::stat(key_file.c_str(), &st) != 0;
    if (new_key) {
        key.reset(EVP_EC_gen("P-256"));
        if (!key) {
            error = "tls.key: cannot generate an EC P-256 key: " + detail::openssl_errors();
            return false;
        }
        BioPtr out(BIO_new(BIO_s_mem()));
        if (!out || PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                             nullptr) != 1) {
            error = "tls.key: cannot encode the key: " + detail::openssl_errors();
            return false;
        }
        if (!write_atomically(key_file, bio_text(out.get()), 0600, error)) {
            error = "tls.key: " + error;
            return false;
        }
    } else {
        key = load_key(key_file, error);
        if (!key) return false;
    }

    X509Ptr cert = make_certificate(key.get(), hostname, error);
    if (!cert) {
        error = "tls.certificate: " + error;
        return false;
    }
    BioPtr out(BIO_new(BIO_s_mem()));
    if (!out || PEM_write_bio_X509(out.get(), cert.get()) != 1) {
        error = "tls.certificate: cannot encode the certificate: " + detail::openssl_errors();
        return false;
    }
    if (!write_atomically(cert_file, bio_text(out.get()), 0644, error)) {
        error = "tls.certificate: " + error;
        return false;
    }
    return true;
}

}  // namespace mxgate::tlspolicy
