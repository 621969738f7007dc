// tests/unit/tlspolicy/handshake_test.cpp — in-memory handshakes (BIO
// pairs) between mxgate's profiles and peers of known capabilities.
#include <catch2/catch.hpp>

#include <openssl/err.h>

#include "test_support.hpp"
#include "tlspolicy/tlspolicy.hpp"

using mxgate::conf::TlsProfile;
using mxgate::conf::TlsProfileName;
namespace tp = mxgate::tlspolicy;
using tlstest::handshake;
using tlstest::raw_client;
using tlstest::raw_server;

namespace {

tp::ContextPtr server(TlsProfileName name) {
    std::string error;
    auto ctx = tp::make_server_context(tlstest::profile(name), tlstest::pki().chain_file,
                                       tlstest::pki().key_file, error);
    INFO(error);
    REQUIRE(ctx);
    return ctx;
}

tp::ContextPtr client(TlsProfileName name, const std::string& ca_file = tlstest::pki().root_file) {
    std::string error;
    auto ctx = tp::make_client_context(tlstest::profile(name), ca_file, error);
    INFO(error);
    REQUIRE(ctx);
    return ctx;
}

const char* kTls10Client = "DEFAULT:@SECLEVEL=0";

}  // namespace

TEST_CASE("strict: TLS 1.3 only", "[handshake]") {
    auto srv = server(TlsProfileName::strict);
    auto h = handshake(srv->native_handle(), client(TlsProfileName::modern)->native_handle());
    INFO(h.error);
    CHECK(h.ok);
    CHECK(h.version == "TLSv1.3");
    CHECK(h.cipher == "TLS_AES_256_GCM_SHA384");

    auto tls12_only = raw_client(TLS1_2_VERSION, TLS1_2_VERSION);
    auto refused = handshake(srv->native_handle(), tls12_only.get());
    CHECK_FALSE(refused.ok);
    CHECK(refused.error.find("protocol") != std::string::npos);
}

TEST_CASE("modern: ECDHE+AEAD, server preference, no CBC, no TLS 1.0", "[handshake]") {
    auto srv = server(TlsProfileName::modern);
    // The client prefers AES128; the server's order puts AES256 first.
    auto gcm = raw_client(TLS1_2_VERSION, TLS1_2_VERSION,
                          "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384");
    auto h = handshake(srv->native_handle(), gcm.get());
    INFO(h.error);
    CHECK(h.ok);
    CHECK(h.version == "TLSv1.2");
    CHECK(h.cipher == "ECDHE-RSA-AES256-GCM-SHA384");

    auto cbc_only = raw_client(TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384");
    CHECK_FALSE(handshake(srv->native_handle(), cbc_only.get()).ok);
    auto tls10 = raw_client(TLS1_VERSION, TLS1_VERSION, kTls10Client);
    CHECK_FALSE(handshake(srv->native_handle(), tls10.get()).ok);
}

TEST_CASE("intermediate: CBC with ECDHE yes, static RSA and TLS 1.0 no", "[handshake]") {
    auto srv = server(TlsProfileName::intermediate);
    auto cbc_only = raw_client(TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES128-SHA");
    auto h = handshake(srv->native_handle(), cbc_only.get());
    INFO(h.error);
    CHECK(h.ok);
    CHECK(h.cipher == "ECDHE-RSA-AES128-SHA");

    auto dhe_only = raw_client(TLS1_2_VERSION, TLS1_2_VERSION, "DHE-RSA-AES128-GCM-SHA256");
    auto d = handshake(srv->native_handle(), dhe_only.get());
    INFO(d.error);
    CHECK(d.ok);
    CHECK(d.cipher == "DHE-RSA-AES128-GCM-SHA256");

    auto rsa_kx = raw_client(TLS1_2_VERSION, TLS1_2_VERSION, "AES128-SHA:AES128-GCM-SHA256");
    CHECK_FALSE(handshake(srv->native_handle(), rsa_kx.get()).ok);
    auto tls10 = raw_client(TLS1_VERSION, TLS1_VERSION, kTls10Client);
    CHECK_FALSE(handshake(srv->native_handle(), tls10.get()).ok);
}

TEST_CASE("compat: TLS 1.0 and static RSA for legacy peers", "[handshake]") {
    auto srv = server(TlsProfileName::compat);
    auto tls10 = raw_client(TLS1_VERSION, TLS1_VERSION, kTls10Client);
    auto h = handshake(srv->native_handle(), tls10.get());
    INFO(h.error);
    CHECK(h.ok);
    CHECK(h.version == "TLSv1");

    auto tls11 = raw_client(TLS1_1_VERSION, TLS1_1_VERSION, kTls10Client);
    auto h11 = handshake(srv->native_handle(), tls11.get());
    INFO(h11.error);
    CHECK(h11.version == "TLSv1.1");

    auto rsa_kx = raw_client(TLS1_2_VERSION, TLS1_2_VERSION, "AES128-SHA");
    auto r = handshake(srv->native_handle(), rsa_kx.get());
    INFO(r.error);
    CHECK(r.cipher == "AES128-SHA");

    // A modern client still gets TLS 1.3 from a compat server.
    auto best = handshake(srv->native_handle(), client(TlsProfileName::modern)->native_handle());
    CHECK(best.version == "TLSv1.3");

    // Without @SECLEVEL=0 OpenSSL 3 cannot do TLS 1.0 at all: the reason
    // compat carries it (this is the control for the checks above).
    auto tls10_level1 = raw_client(TLS1_VERSION, TLS1_VERSION, "DEFAULT:@SECLEVEL=1");
    CHECK_FALSE(handshake(srv->native_handle(), tls10_level1.get()).ok);
}

TEST_CASE("outbound compat reaches a TLS 1.0-only server; intermediate does not", "[handshake]") {
    auto legacy = raw_server(TLS1_VERSION, TLS1_VERSION, kTls10Client);
    auto h = handshake(legacy.get(), client(TlsProfileName::compat)->native_handle());
    INFO(h.error);
    CHECK(h.ok);
    CHECK(h.version == "TLSv1");
    CHECK_FALSE(handshake(legacy.get(), client(TlsProfileName::intermediate)->native_handle()).ok);
}

TEST_CASE("no session tickets from mxgate servers", "[handshake]") {
    auto cli = client(TlsProfileName::modern);
    auto control = raw_server(TLS1_2_VERSION, 0);
    auto c = handshake(control.get(), cli->native_handle());
    REQUIRE(c.ok);
    CHECK(c.client_got_ticket);  // OpenSSL's default would issue them
    for (auto name : {TlsProfileName::strict, TlsProfileName::modern}) {
        auto h = handshake(server(name)->native_handle(), cli->native_handle());
        REQUIRE(h.ok);
        CHECK_FALSE(h.client_got_ticket);
    }
}

TEST_CASE("renegotiation is refused in both directions", "[handshake]") {
    // Client-initiated: OpenSSL 3 servers refuse it unless
    // SSL_OP_ALLOW_CLIENT_RENEGOTIATION; the control sets that flag.
    auto client_renegotiates = [](SSL_CTX* srv) {
        auto cli = raw_client(TLS1_2_VERSION, TLS1_2_VERSION);
        auto h = handshake(srv, cli.get());
        REQUIRE(h.ok);
        REQUIRE(SSL_renegotiate(h.client) == 1);
        char buf[16];
        for (int i = 0; i < 10; ++i) {
            SSL_do_handshake(h.client);
            SSL_read(h.server, buf, sizeof buf);
        }
        ERR_clear_error();
        return SSL_renegotiate_pending(h.client) == 0;
    };
    auto control = raw_server(TLS1_2_VERSION, TLS1_2_VERSION);
    SSL_CTX_set_options(control.get(), SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
    CHECK(client_renegotiates(control.get()));
    auto ours = server(TlsProfileName::intermediate);
    SSL_CTX_set_options(ours->native_handle(), SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
    CHECK_FALSE(client_renegotiates(ours->native_handle()));  // NO_RENEGOTIATION wins

    // Server-initiated (HelloRequest): never sent by mxgate.
    auto cli = raw_client(TLS1_2_VERSION, TLS1_2_VERSION);
    auto c = handshake(control.get(), cli.get());
    REQUIRE(c.ok);
    CHECK(SSL_renegotiate(c.server) == 1);
    auto h = handshake(server(TlsProfileName::intermediate)->native_handle(), cli.get());
    REQUIRE(h.ok);
    CHECK(SSL_renegotiate(h.server) == 0);
    ERR_clear_error();
}

TEST_CASE("client verification result survives an always-continue callback", "[handshake]") {
    const auto& pki = tlstest::pki();
    auto srv = server(TlsProfileName::modern);

    auto trusted = handshake(srv->native_handle(), client(TlsProfileName::modern)->native_handle(),
                             "mx.example.com");
    INFO(trusted.error);
    REQUIRE(trusted.ok);
    CHECK(trusted.verify_result == X509_V_OK);
    tp::SessionInfo info = tp::describe(trusted.client);
    CHECK(info.version == "TLSv1.3");
    CHECK(info.cipher == "TLS_AES_256_GCM_SHA384");
    CHECK(info.bits == 256);
    CHECK(info.chain_verified);
    CHECK(info.verify_error.empty());
    CHECK(info.peer_subject == "CN=mx.example.com");
    CHECK(info.peer_pin == tp::spki_pin(pki.leaf.cert.get()));
    CHECK(tp::certificate_matches_host(trusted.peer.get(), "mx.example.com"));
    CHECK_FALSE(tp::certificate_matches_host(trusted.peer.get(), "mx.example.org"));

    // The server side has no client certificate to describe.
    tp::SessionInfo server_view = tp::describe(trusted.server);
    CHECK(server_view.version == "TLSv1.3");
    CHECK_FALSE(server_view.chain_verified);
    CHECK(server_view.verify_error == "no peer certificate");

    // Untrusted root: the handshake completes (opportunistic/encrypt), the
    // verdict is kept for verify/mta-sts.
    auto untrusted = handshake(srv->native_handle(),
                               client(TlsProfileName::modern, pki.other_root_file)->native_handle());
    REQUIRE(untrusted.ok);
    CHECK(untrusted.verify_result != X509_V_OK);
    tp::SessionInfo u = tp::describe(untrusted.client);
    CHECK_FALSE(u.chain_verified);
    CHECK(u.verify_error == "unable to get local issuer certificate");

    std::string error;
    auto expired_srv = tp::make_server_context(tlstest::profile(TlsProfileName::modern),
                                               pki.expired_chain_file, pki.expired_key_file, error);
    REQUIRE(expired_srv);
    auto expired = handshake(expired_srv->native_handle(),
                             client(TlsProfileName::modern)->native_handle());
    REQUIRE(expired.ok);
    CHECK(tp::describe(expired.client).verify_error == "certificate has expired");

    CHECK(tp::describe(nullptr).version.empty());
}

TEST_CASE("prepare_client_connection sets SNI", "[handshake]") {
    auto srv = server(TlsProfileName::modern);
    auto cli = client(TlsProfileName::modern);
    CHECK(handshake(srv->native_handle(), cli->native_handle(), "MX.Example.COM.").server_saw_sni ==
          "mx.example.com");
    // RFC 6066 §3: no IP literals in SNI.
    auto ip = handshake(srv->native_handle(), cli->native_handle(), "192.0.2.1");
    CHECK(ip.ok);
    CHECK(ip.server_saw_sni.empty());
    auto none = handshake(srv->native_handle(), cli->native_handle());
    CHECK(none.server_saw_sni.empty());
    std::string error;
    CHECK_FALSE(tp::prepare_client_connection(nullptr, "x", error));
}
