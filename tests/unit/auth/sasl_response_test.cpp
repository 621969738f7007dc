// Unit tests for the pure AUTH decoding (auth/base64, auth/sasl_response).
#include <catch2/catch.hpp>

#include "auth/base64.hpp"
#include "auth/sasl_response.hpp"

using namespace mxgate::auth;

TEST_CASE("strict base64", "[auth][base64]") {
    CHECK(decode_base64("") == std::string());
    CHECK(decode_base64("Zg==") == std::string("f"));
    CHECK(decode_base64("Zm8=") == std::string("fo"));
    CHECK(decode_base64("Zm9v") == std::string("foo"));
    CHECK(decode_base64("AGFsaWNlAHNlY3JldA==") == std::string("\0alice\0secret", 13));
    for (const char* bad : {"Zg", "Zg=", "Zg===", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\r\n", "Zm9v=", "=Zm9",
                            "Zg==Zg==", "Zm*v", "Zm9v\n"}) {
        INFO(bad);
        CHECK_FALSE(decode_base64(bad));
    }
    for (int n = 0; n < 40; ++n) {
        std::string s;
        for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(i * 37 + n));
        CHECK(decode_base64(encode_base64(s)) == s);
    }
}

TEST_CASE("SASL response lines", "[auth][sasl]") {
    CHECK(decode_sasl_response("*", false).kind == SaslResponse::Kind::cancel);
    CHECK(decode_sasl_response("*", true).kind == SaslResponse::Kind::cancel);
    const auto empty_initial = decode_sasl_response("=", true);
    CHECK(empty_initial.kind == SaslResponse::Kind::data);
    CHECK(empty_initial.data.empty());
    CHECK(decode_sasl_response("=", false).kind == SaslResponse::Kind::malformed);
    const auto empty_line = decode_sasl_response("", false);
    CHECK(empty_line.kind == SaslResponse::Kind::data);
    CHECK(empty_line.data.empty());
    CHECK(decode_sasl_response("Zm9v", false).data == "foo");
    CHECK(decode_sasl_response("**", false).kind == SaslResponse::Kind::malformed);
    CHECK(decode_sasl_response("Zm9", false).kind == SaslResponse::Kind::malformed);
}

TEST_CASE("PLAIN messages (RFC 4616)", "[auth][sasl]") {
    const auto c = parse_plain(std::string("\0alice\0pw", 9));
    REQUIRE(c);
    CHECK(c->authzid.empty());
    CHECK(c->authcid == "alice");
    CHECK(c->password == "pw");
    const auto z = parse_plain(std::string("admin\0alice\0pw", 14));
    REQUIRE(z);
    CHECK(z->authzid == "admin");
    CHECK_FALSE(parse_plain("alice"));
    CHECK_FALSE(parse_plain(std::string("\0alice", 6)));
    CHECK_FALSE(parse_plain(std::string("\0\0pw", 4)));       // empty authcid
    CHECK_FALSE(parse_plain(std::string("\0alice\0", 7)));    // empty password
    CHECK_FALSE(parse_plain(std::string("\0a\0b\0c", 6)));     // a third NUL
}
