// tests/unit/dns/rdata_test.cpp — tables for the pure RDATA parsers and the
// AD-probe message codec (relay/core/dns_rdata.cpp, dns_message.cpp),
// including malformed and truncated input.
#include <catch2/catch.hpp>
#include <string>

#include "relay/core/dns_rdata.hpp"

using namespace mxgate::core;
using namespace std::string_literals;

namespace {
// "\x02mx\x07example\x04test\x00" from "mx.example.test"
std::string wire(const std::string& dotted) {
    std::string out;
    size_t start = 0;
    while (start < dotted.size()) {
        size_t dot = dotted.find('.', start);
        if (dot == std::string::npos) dot = dotted.size();
        out.push_back(static_cast<char>(dot - start));
        out += dotted.substr(start, dot - start);
        start = dot + 1;
    }
    return out + '\0';
}
}  // namespace

TEST_CASE("parse_wire_name decodes, lower-cases and advances", "[dns][rdata]") {
    struct Row { std::string in; std::optional<std::string> out; size_t end; };
    const Row rows[] = {
        {wire("MX.Example.TEST"), "mx.example.test", 17},
        {"\0"s, "", 1},                              // root
        {wire("_25._tcp.mx.test"), "_25._tcp.mx.test", 18},
        {wire("a-b.test") + "tail", "a-b.test", 10},  // pos stops at the name's end
        {"\x03" "abc"s, std::nullopt, 0},            // no root label
        {"\x05" "ab\0"s, std::nullopt, 0},           // label runs past the end
        {"\xC0\x0C"s, std::nullopt, 0},              // compression pointer
        {"\x40" + std::string(64, 'a') + '\0', std::nullopt, 0},  // label type 01 / > 63
        {"\x03" "a.b\0"s, std::nullopt, 0},          // '.' inside a label
        {"\x03" "a b\0"s, std::nullopt, 0},          // space
        {"\x03" "a\nb\0"s, std::nullopt, 0},         // control byte
        {""s, std::nullopt, 0},
    };
    for (const auto& r : rows) {
        size_t pos = 0;
        auto got = parse_wire_name(r.in, pos);
        INFO("input size " << r.in.size());
        CHECK(got == r.out);
        CHECK(pos == r.end);
    }
}

TEST_CASE("parse_wire_name enforces the 255-octet name limit", "[dns][rdata]") {
    std::string name;
    for (int i = 0; i < 4; ++i) name += "\x3f" + std::string(63, 'a');  // 4 * 64 = 256 octets
    size_t pos = 0;
    CHECK_FALSE(parse_wire_name(name + '\0', pos));
    std::string ok;
    for (int i = 0; i < 3; ++i) ok += "\x3f" + std::string(63, 'a');  // 192
    ok += "\x3d" + std::string(61, 'b');                               // 254 + root = 255
    pos = 0;
    auto got = parse_wire_name(ok + '\0', pos);
    REQUIRE(got);
    CHECK(got->size() == 3 * 64 + 61);
    CHECK(pos == 255);
}

TEST_CASE("parse_mx_rdata", "[dns][rdata]") {
    auto mx = parse_mx_rdata("\x00\x0a"s + wire("MX1.Example.test"));
    REQUIRE(mx);
    CHECK(mx->preference == 10);
    CHECK(mx->host == "mx1.example.test");

    auto null_mx = parse_mx_rdata("\x00\x00\x00"s);  // RFC 7505: 0 "."
    REQUIRE(null_mx);
    CHECK(null_mx->preference == 0);
    CHECK(null_mx->host.empty());

    auto high = parse_mx_rdata("\xff\xfe"s + wire("a.test"));
    REQUIRE(high);
    CHECK(high->preference == 65534);

    CHECK_FALSE(parse_mx_rdata(""));
    CHECK_FALSE(parse_mx_rdata("\x00"s));
    CHECK_FALSE(parse_mx_rdata("\x00\x0a"s));                        // no name
    CHECK_FALSE(parse_mx_rdata("\x00\x0a"s + wire("a.test") + "x"));  // trailing byte
    CHECK_FALSE(parse_mx_rdata("\x00\x0a\x05" "ab"s));                 // truncated name
    CHECK_FALSE(parse_mx_rdata("\x00\x0a\xc0\x0c"s));                  // compressed
}

TEST_CASE("parse_a_rdata and parse_aaaa_rdata", "[dns][rdata]") {
    CHECK(parse_a_rdata("\x7f\x00\x00\x02"s) == "127.0.0.2");
    CHECK(parse_a_rdata("\xff\xff\xff\xff"s) == "255.255.255.255");
    CHECK_FALSE(parse_a_rdata("\x7f\x00\x00"s));
    CHECK_FALSE(parse_a_rdata("\x7f\x00\x00\x02\x00"s));
    CHECK_FALSE(parse_a_rdata(""));

    // RFC 5952: lower case, longest zero run compressed, no leading zeros.
    CHECK(parse_aaaa_rdata("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"s) == "2001:db8::1");
    CHECK(parse_aaaa_rdata(std::string(16, '\0')) == "::");
    CHECK(parse_aaaa_rdata("\x20\x01\x0d\xb8\0\0\0\x01\0\0\0\0\0\0\0\x01"s) == "2001:db8:0:1::1");
    CHECK(parse_aaaa_rdata("\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x01"s) == "::ffff:192.0.2.1");
    CHECK(parse_aaaa_rdata("\xFE\x80\0\0\0\0\0\0\xAB\xCD\0\0\0\0\0\0"s) == "fe80::abcd:0:0:0");
    CHECK_FALSE(parse_aaaa_rdata(std::string(15, '\0')));
    CHECK_FALSE(parse_aaaa_rdata(std::string(17, '\0')));
}

TEST_CASE("parse_txt_rdata concatenates the strings of one record", "[dns][rdata]") {
    CHECK(parse_txt_rdata("\x07v=spf1 \x04-all"s) == "v=spf1 -all");
    CHECK(parse_txt_rdata("\x00"s) == "");                 // one empty string is valid
    CHECK(parse_txt_rdata("\x00\x02hi\x00"s) == "hi");
    CHECK(parse_txt_rdata("\x03" "a\0b"s) == "a\0b"s);     // binary kept as is
    std::string max = "\xff" + std::string(255, 'x');
    CHECK(parse_txt_rdata(max)->size() == 255);
    CHECK_FALSE(parse_txt_rdata(""));                      // no string at all
    CHECK_FALSE(parse_txt_rdata("\x05" "abc"s));           // truncated string
    CHECK_FALSE(parse_txt_rdata("\x02hi\x01"s));           // truncated second string
}

TEST_CASE("parse_tlsa_rdata", "[dns][rdata]") {
    const std::string digest(32, '\xab');
    auto t = parse_tlsa_rdata("\x03\x01\x01"s + digest);
    REQUIRE(t);
    CHECK(t->usage == 3);
    CHECK(t->selector == 1);
    CHECK(t->matching_type == 1);
    CHECK(t->data == digest);
    // Structure only: a wrong digest length is the matcher's business
    // (RFC 7672 §2.2 "unusable"), not a malformed record.
    auto odd = parse_tlsa_rdata("\x03\x01\x01\x00"s);
    REQUIRE(odd);
    CHECK(odd->data == "\x00"s);
    CHECK(parse_tlsa_rdata("\x02\x00\x00"s));  // empty association data parses
    CHECK_FALSE(parse_tlsa_rdata("\x03\x01"s));
    CHECK_FALSE(parse_tlsa_rdata(""));
}

TEST_CASE("build_ad_query / parse_ad_reply", "[dns][message]") {
    auto q = build_ad_query("Secure.Test.", 15, 0x1234);
    REQUIRE(q);
    const std::string qname = wire("Secure.Test");
    CHECK(q->substr(0, 12) == "\x12\x34\x01\x20\x00\x01\x00\x00\x00\x00\x00\x01"s);
    CHECK(q->substr(12, qname.size()) == qname);
    CHECK(q->substr(12 + qname.size(), 4) == "\x00\x0f\x00\x01"s);
    CHECK(q->size() == 12 + qname.size() + 4 + 11);  // + OPT

    // A reply: same ID and question (case changed), QR|RD|RA|AD, NOERROR.
    std::string reply = "\x12\x34\x81\xa0\x00\x01\x00\x01\x00\x00\x00\x00"s + wire("secure.TEST") + "\x00\x0f\x00\x01"s;
    auto h = parse_ad_reply(reply, *q);
    REQUIRE(h);
    CHECK(h->ad);
    CHECK(h->rcode == 0);
    CHECK_FALSE(h->truncated);

    std::string nx = reply;
    nx[3] = '\x83';  // RA, no AD, NXDOMAIN
    h = parse_ad_reply(nx, *q);
    REQUIRE(h);
    CHECK_FALSE(h->ad);
    CHECK(h->rcode == 3);

    std::string bad = reply;
    bad[1] = '\x35';  // other ID
    CHECK_FALSE(parse_ad_reply(bad, *q));
    bad = reply;
    bad[2] = '\x01';  // QR clear: a query, not a reply
    CHECK_FALSE(parse_ad_reply(bad, *q));
    bad = reply;
    bad[reply.size() - 3] = '\x10';  // QTYPE 16 instead of 15
    CHECK_FALSE(parse_ad_reply(bad, *q));
    bad = reply;
    bad[13] = 'x';  // other name
    CHECK_FALSE(parse_ad_reply(bad, *q));
    CHECK_FALSE(parse_ad_reply(reply.substr(0, reply.size() - 1), *q));  // truncated question
    CHECK_FALSE(parse_ad_reply(reply.substr(0, 11), *q));

    CHECK_FALSE(build_ad_query("a..test", 1, 1));
    CHECK_FALSE(build_ad_query(std::string(64, 'a') + ".test", 1, 1));
    CHECK(build_ad_query(".", 2, 1));  // the root
}
