// tests/unit/tlspolicy/self_signed_test.cpp — ensure_self_signed().
#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_support.hpp"
#include "tlspolicy/tlspolicy.hpp"

using mxgate::conf::TlsProfile;
using mxgate::conf::TlsProfileName;
namespace tp = mxgate::tlspolicy;

namespace {

mode_t mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

tlstest::Cert load_cert(const std::string& path) {
    FILE* f = fopen(path.c_str(), "r");
    REQUIRE(f);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    fclose(f);
    REQUIRE(cert);
    return tlstest::Cert(cert);
}

}  // namespace

TEST_CASE("ensure_self_signed creates a usable pair once", "[self_signed]") {
    tlstest::TempDir dir;
    std::string cert_file = dir.path + "/etc/mxgate/cert.pem";
    std::string key_file = dir.path + "/etc/mxgate/private/key.pem";
    std::string error;
    REQUIRE(tp::ensure_self_signed(cert_file, key_file, "mx.dev.example", error));
    CHECK(error.empty());

    CHECK(mode_of(key_file) == 0600);
    CHECK(mode_of(cert_file) == 0644);
    CHECK(mode_of(dir.path + "/etc") == 0700);
    CHECK(mode_of(dir.path + "/etc/mxgate/private") == 0700);

    auto cert = load_cert(cert_file);
    CHECK(X509_get_version(cert.get()) == 2);
    CHECK(tp::certificate_matches_host(cert.get(), "mx.dev.example"));
    CHECK_FALSE(tp::certificate_matches_host(cert.get(), "other.dev.example"));
    // Self-signed: issuer = subject, signature verifies with its own key.
    CHECK(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())) == 0);
    CHECK(X509_verify(cert.get(), X509_get0_pubkey(cert.get())) == 1);
    CHECK(X509_check_ca(cert.get()) == 0);  // CA:FALSE
    CHECK(X509_get_signature_nid(cert.get()) == NID_ecdsa_with_SHA256);
    EVP_PKEY* pub = X509_get0_pubkey(cert.get());
    CHECK(EVP_PKEY_is_a(pub, "EC"));
    char group[64] = "";
    EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof group, nullptr);
    CHECK(std::string(group) == "prime256v1");
    // About a year of validity (allow for the test running at a boundary).
    int days = 0, secs = 0;
    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get()));
    CHECK(days == 365);
    // The serial is random and positive, not 0/1.
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
    CHECK(ASN1_STRING_length(serial) >= 8);
    // The pair loads as a server context (certificate and key match).
    auto ctx = tp::make_server_context(tlstest::profile(TlsProfileName::modern), cert_file, key_file, error);
    INFO(error);
    CHECK(ctx);

    // Second call: nothing changes.
    std::string before_cert = slurp(cert_file), before_key = slurp(key_file);
    REQUIRE(tp::ensure_self_signed(cert_file, key_file, "mx.dev.example", error));
    CHECK(slurp(cert_file) == before_cert);
    CHECK(slurp(key_file) == before_key);

    // Certificate removed, key kept: a new certificate for the same key.
    std::string pin = tp::spki_pin(cert.get());
    REQUIRE(::unlink(cert_file.c_str()) == 0);
    REQUIRE(tp::ensure_self_signed(cert_file, key_file, "mx2.dev.example", error));
    CHECK(slurp(key_file) == before_key);
    auto again = load_cert(cert_file);
    CHECK(tp::spki_pin(again.get()) == pin);
    CHECK(tp::certificate_matches_host(again.get(), "mx2.dev.example"));

    // No temporary files left behind.
    int entries = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path + "/etc/mxgate"))
        ++entries;
    CHECK(entries == 2);  // cert.pem and private/
}

TEST_CASE("ensure_self_signed reports errors", "[self_signed]") {
    tlstest::TempDir dir;
    std::string error;
    // Parent is a file, not a directory.
    std::string file = dir.write("plainfile", "x");
    CHECK_FALSE(tp::ensure_self_signed(file + "/cert.pem", file + "/key.pem", "h.example", error));
    CAPTURE(error);
    CHECK(error.find("ot a directory") != std::string::npos);

    error.clear();
    std::string bad_key = dir.write("bad.key", "garbage\n");
    CHECK_FALSE(tp::ensure_self_signed(dir.path + "/c.pem", bad_key, "h.example", error));
    CHECK(error.find("tls.key: " + bad_key) == 0);

    error.clear();
    CHECK_FALSE(tp::ensure_self_signed(dir.path + "/c2.pem", dir.path + "/k2.pem", "", error));
    CHECK(error.find("hostname") == 0);

    // An IP literal gets an IP SAN.
    error.clear();
    REQUIRE(tp::ensure_self_signed(dir.path + "/ip.pem", dir.path + "/ip.key", "127.0.0.1", error));
    CHECK(tp::certificate_matches_host(load_cert(dir.path + "/ip.pem").get(), "127.0.0.1"));
}
