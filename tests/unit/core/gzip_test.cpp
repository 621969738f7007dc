#include <catch2/catch.hpp>
#include <zlib.h>

#include <string>

#include "relay/core/gzip.hpp"

namespace {
// zlib's own inflate with gzip decoding (windowBits 15 + 16): the reference.
std::string gunzip(const std::string& in) {
    z_stream zs{};
    REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    std::string out;
    char buf[4096];
    int rc;
    do {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        REQUIRE((rc == Z_OK || rc == Z_STREAM_END));
        out.append(buf, sizeof buf - zs.avail_out);
    } while (rc != Z_STREAM_END);
    CHECK(zs.avail_in == 0);  // one member, nothing after it
    inflateEnd(&zs);
    return out;
}
}  // namespace

TEST_CASE("gzip round-trips through zlib inflate") {
    std::string big;
    for (int i = 0; i < 20000; ++i) big += "{\"policy-domain\":\"example.com\",\"n\":" + std::to_string(i) + "}\n";
    std::string binary;
    for (int i = 0; i < 70000; ++i) binary += static_cast<char>((i * 7919) & 0xff);
    for (const std::string& s : {std::string(), std::string("x"), std::string("hello\0world", 11), big, binary}) {
        const std::string z = mxgate::core::gzip(s);
        REQUIRE(z.size() >= 18);
        // RFC 1952 §2.3.1: magic 1f 8b, CM 8 (deflate).
        CHECK(static_cast<unsigned char>(z[0]) == 0x1f);
        CHECK(static_cast<unsigned char>(z[1]) == 0x8b);
        CHECK(z[2] == 8);
        CHECK(gunzip(z) == s);
    }
    CHECK(mxgate::core::gzip(big).size() < big.size() / 10);  // it does compress
}
