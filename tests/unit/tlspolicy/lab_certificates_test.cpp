// tests/unit/tlspolicy/lab_certificates_test.cpp — make_lab_server_context:
// each lab certificate kind has exactly its defect, the lab CA is kept and
// reused, and lab.protocols narrows the handshake to the listed versions.
#include <catch2/catch.hpp>
#include <openssl/x509v3.h>

#include "test_support.hpp"
#include "tlspolicy/tlspolicy.hpp"

using mxgate::conf::LabConfig;
using mxgate::conf::TlsProfileName;
namespace tp = mxgate::tlspolicy;

namespace {

tp::ContextPtr lab_ctx(const LabConfig& lab, const std::string& dir) {
    const auto& pki = tlstest::pki();
    std::string error;
    auto ctx = tp::make_lab_server_context(lab, tlstest::profile(TlsProfileName::modern), pki.chain_file,
                                           pki.key_file, "mx.lab.test", dir + "/lab", error);
    INFO(error);
    REQUIRE(ctx);
    return ctx;
}

LabConfig with_cert(LabConfig::Certificate c) {
    LabConfig lab;
    lab.certificate = c;
    return lab;
}

}  // namespace

TEST_CASE("lab certificates carry exactly one defect", "[lab]") {
    tlstest::TempDir dir;
    auto expired_ctx = lab_ctx(with_cert(LabConfig::Certificate::expired), dir.path);
    X509* expired = SSL_CTX_get0_certificate(expired_ctx->native_handle());
    CHECK(X509_cmp_current_time(X509_get0_notAfter(expired)) < 0);     // expired
    CHECK(tp::certificate_matches_host(expired, "mx.lab.test"));       // right name

    auto wrong_ctx = lab_ctx(with_cert(LabConfig::Certificate::wrong_name), dir.path);
    X509* wrong = SSL_CTX_get0_certificate(wrong_ctx->native_handle());
    CHECK_FALSE(tp::certificate_matches_host(wrong, "mx.lab.test"));
    CHECK(tp::certificate_matches_host(wrong, "wrong-name.invalid"));
    CHECK(X509_cmp_current_time(X509_get0_notAfter(wrong)) > 0);

    // Both are issued by the lab CA, which is written once and reused.
    X509_STORE* store = X509_STORE_new();
    REQUIRE(X509_STORE_load_file(store, (dir.path + "/lab/ca.pem").c_str()) == 1);
    X509_STORE_CTX* sctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(sctx, store, wrong, nullptr);
    CHECK(X509_verify_cert(sctx) == 1);  // chain fine: only the name is wrong
    X509_STORE_CTX_free(sctx);
    X509_STORE_free(store);

    auto self_ctx = lab_ctx(with_cert(LabConfig::Certificate::self_signed), dir.path);
    X509* self = SSL_CTX_get0_certificate(self_ctx->native_handle());
    CHECK(X509_NAME_cmp(X509_get_subject_name(self), X509_get_issuer_name(self)) == 0);
    CHECK(tp::certificate_matches_host(self, "mx.lab.test"));

    auto valid_ctx = lab_ctx(with_cert(LabConfig::Certificate::valid), dir.path);
    CHECK(X509_cmp(SSL_CTX_get0_certificate(valid_ctx->native_handle()), tlstest::pki().leaf.cert.get()) == 0);
}

TEST_CASE("lab.protocols narrows the handshake", "[lab]") {
    tlstest::TempDir dir;
    LabConfig lab;
    lab.protocols = {"TLSv1"};
    auto ctx = lab_ctx(lab, dir.path);
    CHECK(SSL_CTX_get_min_proto_version(ctx->native_handle()) == TLS1_VERSION);
    CHECK(SSL_CTX_get_max_proto_version(ctx->native_handle()) == TLS1_VERSION);
    auto old_client = tlstest::raw_client(TLS1_VERSION, TLS1_VERSION, "ALL:@SECLEVEL=0");
    auto ok = tlstest::handshake(ctx->native_handle(), old_client.get());
    INFO(ok.error);
    CHECK(ok.ok);
    CHECK(ok.version == "TLSv1");
    auto modern_client = tlstest::raw_client(TLS1_2_VERSION, 0);
    CHECK_FALSE(tlstest::handshake(ctx->native_handle(), modern_client.get()).ok);
}
