// tests/unit/tlspolicy/pins_test.cpp — spki_pin against the SPEC §3 shell
// pipeline, and pin list matching.
#include <catch2/catch.hpp>

#include <cstdio>

#include "test_support.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace tp = mxgate::tlspolicy;

namespace {

std::string run(const std::string& command) {
    std::string out;
    if (FILE* p = popen(command.c_str(), "r")) {
        char buf[256];
        while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
        if (pclose(p) != 0) return {};
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

}  // namespace

TEST_CASE("spki_pin equals the SPEC's openssl pipeline", "[pins]") {
    if (run("command -v openssl").empty()) {
        WARN("openssl CLI not installed; pipeline comparison skipped");
        return;
    }
    tlstest::TempDir dir;
    for (auto type : {tlstest::KeyType::ec_p256, tlstest::KeyType::rsa2048}) {
        auto c = tlstest::make_cert({.cn = "pin.example", .key = type});
        std::string file = dir.write("cert.pem", tlstest::pem(c.cert.get()));
        std::string expected = run("openssl x509 -in '" + file +
                                   "' -pubkey -noout | openssl pkey -pubin -outform der | "
                                   "openssl dgst -sha256 -binary | base64");
        REQUIRE(expected.size() == 44);
        std::string pin = tp::spki_pin(c.cert.get());
        CHECK(pin == "sha256:" + expected);
    }
}

TEST_CASE("pins identify the key, not the certificate", "[pins]") {
    auto a = tlstest::make_cert({.cn = "a.example", .key = tlstest::KeyType::ec_p256});
    auto b = tlstest::make_cert({.cn = "b.example", .key = tlstest::KeyType::ec_p256});
    std::string pa = tp::spki_pin(a.cert.get());
    CHECK(pa.rfind("sha256:", 0) == 0);
    CHECK(pa != tp::spki_pin(b.cert.get()));

    // Re-issue a's key in a new certificate: same pin.
    tlstest::Cert again(X509_dup(b.cert.get()));
    X509_set_pubkey(again.get(), a.key.get());
    X509_sign(again.get(), a.key.get(), EVP_sha256());
    CHECK(tp::spki_pin(again.get()) == pa);

    CHECK(tp::certificate_matches_pins(a.cert.get(), {"sha256:nope", pa}));
    CHECK_FALSE(tp::certificate_matches_pins(b.cert.get(), {pa}));
    CHECK_FALSE(tp::certificate_matches_pins(a.cert.get(), {}));
    std::string lower = pa;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower != pa) CHECK_FALSE(tp::certificate_matches_pins(a.cert.get(), {lower}));
    CHECK(tp::spki_pin(nullptr).empty());
}
