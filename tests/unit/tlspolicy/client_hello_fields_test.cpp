// Unit tests for tlspolicy/client_hello_fields.hpp: the ClientHello bytes
// the inbound callback turns into event fields.
#include <catch2/catch.hpp>

#include <cstring>

#include "tlspolicy/client_hello_fields.hpp"
#include "tlspolicy/downgrade_record.hpp"

using namespace mxgate::tlspolicy;

TEST_CASE("supported_versions: names, GREASE left out, bounded by both lengths", "[tlspolicy][client_hello]") {
    const uint8_t ext[] = {8, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03, 0x03, 0x05};
    CHECK(parse_supported_versions(ext, sizeof ext) == std::vector<std::string>{"TLSv1.3", "TLSv1.2", "0x0305"});
    // The length octet claims more than there is: only what is there.
    const uint8_t cut[] = {10, 0x03, 0x04, 0x03};
    CHECK(parse_supported_versions(cut, sizeof cut) == std::vector<std::string>{"TLSv1.3"});
    // The buffer holds more than the length octet says: the rest is ignored.
    const uint8_t extra[] = {2, 0x03, 0x03, 0x03, 0x04};
    CHECK(parse_supported_versions(extra, sizeof extra) == std::vector<std::string>{"TLSv1.2"});
    CHECK(parse_supported_versions(nullptr, 0).empty());
}

TEST_CASE("cipher suites: names from the lookup, hex otherwise, SCSV and GREASE out, capped", "[tlspolicy][client_hello]") {
    const uint8_t list[] = {0x1a, 0x1a, 0x13, 0x01, 0x00, 0xff, 0x56, 0x00, 0xc0, 0xff, 0x00};
    auto name = [](const uint8_t* two) -> const char* { return two[0] == 0x13 ? "TLS_AES_128_GCM_SHA256" : nullptr; };
    CHECK(parse_cipher_suites(list, sizeof list, name) == std::vector<std::string>{"TLS_AES_128_GCM_SHA256", "0xC0FF"});
    std::vector<uint8_t> many;
    for (int i = 0; i < 100; ++i) {
        many.push_back(0xc0);
        many.push_back(static_cast<uint8_t>(i));
    }
    CHECK(parse_cipher_suites(many.data(), many.size(), nullptr).size() == kMaxOfferedCiphers);
}

TEST_CASE("server_name: the host name, checked lengths, printable only", "[tlspolicy][client_hello]") {
    const uint8_t ok[] = {0x00, 0x0a, 0x00, 0x00, 0x07, 'm', 'x', '.', 't', 'e', 's', 't'};
    CHECK(parse_server_name(ok, sizeof ok) == "mx.test");
    const uint8_t ctl[] = {0x00, 0x06, 0x00, 0x00, 0x03, 'a', 0x01, 0x7f};
    CHECK(parse_server_name(ctl, sizeof ctl) == "a??");
    const uint8_t too_long[] = {0x00, 0x06, 0x00, 0x00, 0x09, 'a', 'b'};
    CHECK(parse_server_name(too_long, sizeof too_long).empty());
    const uint8_t not_host[] = {0x00, 0x06, 0x01, 0x00, 0x01, 'a'};
    CHECK(parse_server_name(not_host, sizeof not_host).empty());
}

TEST_CASE("handshake-failure record: exact form only", "[tlspolicy][downgrade]") {
    CHECK_FALSE(decode_failure("v1\n12abc\n192.0.2.1\n\n\n\n\n\n"));  // trailing garbage after the time
    CHECK_FALSE(decode_failure("v1\n 12\n192.0.2.1\n\n\n\n\n\n"));     // not the written form
    CHECK_FALSE(decode_failure("v1\n99999999999999999999\n192.0.2.1\n\n\n\n\n\n"));  // out of range
    // A CR inside a field (fuzzing found it: encode() would write a space).
    CHECK_FALSE(decode_failure("v1\n12\n192.0.2.1\nh\n\rerror\n\n\n\n"));
    const auto f = decode_failure("v1\n12\n::ffff:192.0.2.1\n\n\n\n\n\n");
    REQUIRE(f);
    CHECK(client_network(f->client) == "192.0.2.0/24");
    CHECK(client_network("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
    CHECK(same_client("::ffff:192.0.2.1", "", "192.0.2.1", ""));
    CHECK_FALSE(same_client("192.0.2.1", "", "192.0.2.2", ""));
    CHECK(same_client("192.0.2.1", "MX.a.example", "192.0.2.2", "mx.A.example"));
}
