// tests/unit/tlspolicy/contexts_test.cpp — make_server_context and
// make_client_context: loading, error texts, fixed options.
#include <catch2/catch.hpp>

#include "test_support.hpp"
#include "tlspolicy/tlspolicy.hpp"

using mxgate::conf::TlsProfile;
using mxgate::conf::TlsProfileName;
namespace tp = mxgate::tlspolicy;

TEST_CASE("server context loads chain and key", "[contexts]") {
    const auto& pki = tlstest::pki();
    std::string error;
    auto ctx = tp::make_server_context(tlstest::profile(TlsProfileName::modern), pki.chain_file,
                                       pki.key_file, error);
    INFO(error);
    REQUIRE(ctx);
    SSL_CTX* native = ctx->native_handle();
    CHECK(X509_cmp(SSL_CTX_get0_certificate(native), pki.leaf.cert.get()) == 0);
    STACK_OF(X509)* chain = nullptr;
    REQUIRE(SSL_CTX_get0_chain_certs(native, &chain) == 1);
    CHECK(sk_X509_num(chain) == 1);  // the intermediate from fullchain.pem

    uint64_t opts = SSL_CTX_get_options(native);
    CHECK((opts & SSL_OP_NO_COMPRESSION) != 0);
    CHECK((opts & SSL_OP_NO_RENEGOTIATION) != 0);
    CHECK((opts & SSL_OP_CIPHER_SERVER_PREFERENCE) != 0);
    CHECK((opts & SSL_OP_NO_TICKET) != 0);
    CHECK((opts & SSL_OP_NO_TLSv1_3) == 0);
    CHECK(SSL_CTX_get_min_proto_version(native) == TLS1_2_VERSION);
    CHECK(SSL_CTX_get_security_level(native) == 2);
}

TEST_CASE("server context errors name the key, the file and the reason", "[contexts]") {
    const auto& pki = tlstest::pki();
    tlstest::TempDir dir;
    std::string garbage = dir.write("garbage.pem", "not a certificate\n");
    std::string other_key =
        dir.write("other.key", tlstest::pem(tlstest::make_cert({.cn = "x"}).key.get()));
    struct Row {
        std::string cert, key;
        std::string expect;
    };
    const Row rows[] = {
        {"/nonexistent/cert.pem", pki.key_file,
         "tls.certificate: cannot read /nonexistent/cert.pem: No such file or directory"},
        {garbage, pki.key_file, "no usable PEM certificate chain"},
        {pki.chain_file, "/nonexistent/key.pem",
         "tls.key: cannot read /nonexistent/key.pem: No such file or directory"},
        {pki.chain_file, garbage, "no usable PEM private key"},
        {pki.chain_file, other_key, "does not match the certificate in " + pki.chain_file},
    };
    for (const Row& row : rows) {
        std::string error;
        auto ctx = tp::make_server_context(tlstest::profile(TlsProfileName::modern), row.cert, row.key,
                                           error);
        CAPTURE(row.expect, error);
        CHECK_FALSE(ctx);
        CHECK(error.find(row.expect) != std::string::npos);
    }
    std::string error;
    TlsProfile bad = tlstest::profile(TlsProfileName::modern);
    bad.groups = "nonsense";
    CHECK_FALSE(tp::make_server_context(bad, pki.chain_file, pki.key_file, error));
    CHECK(error.find("unknown group \"nonsense\"") != std::string::npos);
}

TEST_CASE("client context trust store", "[contexts]") {
    std::string error;
    auto system = tp::make_client_context(tlstest::profile(TlsProfileName::intermediate), "system", error);
    INFO(error);
    CHECK(system);
    CHECK(SSL_CTX_get_verify_mode(system->native_handle()) == SSL_VERIFY_PEER);
    CHECK(SSL_CTX_get_verify_callback(system->native_handle()) != nullptr);

    auto file = tp::make_client_context(tlstest::profile(TlsProfileName::intermediate),
                                        tlstest::pki().root_file, error);
    CHECK(file);

    error.clear();
    CHECK_FALSE(tp::make_client_context(tlstest::profile(TlsProfileName::modern), "/nonexistent/ca.pem",
                                        error));
    CHECK(error == "tls.ca_file: cannot read /nonexistent/ca.pem: No such file or directory");

    tlstest::TempDir dir;
    std::string garbage = dir.write("ca.pem", "junk\n");
    error.clear();
    CHECK_FALSE(tp::make_client_context(tlstest::profile(TlsProfileName::modern), garbage, error));
    CHECK(error.find("tls.ca_file: " + garbage + ": no usable PEM certificate") == 0);
}
