// Unit tests for the probe's pure parsers (relay/client/probe_records.cpp):
// MTA-STS TXT and policy (RFC 8461 §3.1, §3.2, §4.1) and the HTTP response of the policy fetch.
#include <catch2/catch.hpp>

#include "relay/client/probe_records.hpp"

using namespace mxgate::client::probe;

TEST_CASE("MTA-STS TXT records", "[probe][records]") {
    std::string e;
    auto r = parse_sts_txt("v=STSv1; id=20240101T000000;", e);
    REQUIRE(r);
    CHECK(r->id == "20240101T000000");
    CHECK(!parse_sts_txt("v=spf1 -all", e));
    CHECK(e.empty());  // not an MTA-STS record: no error
    CHECK(!parse_sts_txt("v=STSv1; id=has-dash", e));
    CHECK(e.find("id=") != std::string::npos);
    CHECK(!parse_sts_txt("v=STSv1;", e));
    CHECK(!parse_sts_txt("v=STSv1; id=123456789012345678901234567890123", e));  // 33 > 32
}

TEST_CASE("MTA-STS policies", "[probe][records]") {
    std::string e;
    auto p = parse_sts_policy("version: STSv1\r\nmode: enforce\r\nmx: MX1.example.org\r\nmx: *.example.net\r\n"
                              "max_age: 604800\r\nfuture: ignored\r\n",
                              e);
    REQUIRE(p);
    CHECK(p->mode == "enforce");
    CHECK(p->max_age == 604800);
    CHECK(p->mx == std::vector<std::string>{"mx1.example.org", "*.example.net"});
    CHECK(parse_sts_policy("version: STSv1\nmode: none\nmax_age: 1\n", e));  // LF lines, no mx for none
    CHECK(!parse_sts_policy("version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n", e));
    CHECK(!parse_sts_policy("version: STSv1\nmode: enforcing\nmx: a\nmax_age: 1\n", e));
    CHECK(!parse_sts_policy("version: STSv1\nmode: enforce\nmax_age: 1\n", e));
    CHECK(e == "no mx line");
    CHECK(!parse_sts_policy("version: STSv1\nmode: enforce\nmx: a\nmax_age: 31557601\n", e));
    CHECK(!parse_sts_policy("version: STSv1\nmode: enforce\nmx: a\n", e));
    CHECK(!parse_sts_policy("<html>not found</html>", e));
}

TEST_CASE("MTA-STS mx patterns (RFC 8461 §4.1)", "[probe][records]") {
    CHECK(sts_mx_matches("mx.example.org", "MX.example.org."));
    CHECK(sts_mx_matches("*.example.org", "mx1.example.org"));
    CHECK_FALSE(sts_mx_matches("*.example.org", "example.org"));
    CHECK_FALSE(sts_mx_matches("*.example.org", "a.b.example.org"));
    CHECK_FALSE(sts_mx_matches("mx.example.org", "mx.example.org.evil"));
}

TEST_CASE("HTTP responses of the policy fetch", "[probe][records]") {
    std::string e;
    auto r = parse_http_response("HTTP/1.1 200 OK\r\nContent-Type: Text/Plain; charset=utf-8\r\n"
                                 "Content-Length: 5\r\n\r\nhello",
                                 e);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->content_type == "text/plain");
    CHECK(r->body == "hello");
    r = parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", e);
    REQUIRE(r);
    CHECK(r->body == "hello");
    r = parse_http_response("HTTP/1.0 200 OK\r\n\r\nuntil close", e);
    REQUIRE(r);
    CHECK(r->body == "until close");
    CHECK(!parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", e));
    CHECK(!parse_http_response("SSH-2.0-OpenSSH\r\n\r\n", e));
    CHECK(!parse_http_response(std::string("HTTP/1.1 200 OK\r\n\r\n") + std::string(70000, 'x'), e));
}
