// tests/unit/server/received_header_test.cpp — the Received: field (RFC 5321
// §4.4, RFC 5322 §3.6.7, RFC 3848) and the RFC 5322 date.
#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "relay/server/received_header.hpp"

using namespace mxgate::server;

namespace {

ReceivedInfo base() {
    ReceivedInfo r;
    r.helo = "client.example.net";
    r.client_ip = "198.51.100.7";
    r.by_host = "mx.test.example";
    r.protocol = "ESMTP";
    r.queue_id = "0123456789ABCDEF0123";
    r.when = 1795348800;  // Sun, 22 Nov 2026 12:00:00 UTC
    return r;
}

// Every CRLF but the last is followed by a tab (folded), and nothing else
// breaks a line.
void check_folding(const std::string& h) {
    REQUIRE(h.size() >= 2);
    CHECK(h.substr(h.size() - 2) == "\r\n");
    for (size_t i = 0; i < h.size(); ++i) {
        const char c = h[i];
        if (c == '\n') {
            CHECK(i > 0);
            CHECK(h[i - 1] == '\r');
            if (i + 1 < h.size()) CHECK(h[i + 1] == '\t');
        }
        if (c == '\r') {
            REQUIRE(i + 1 < h.size());
            CHECK(h[i + 1] == '\n');
        }
    }
}

}  // namespace

TEST_CASE("rfc5322_date: fixed instants", "[received]") {
    CHECK(rfc5322_date(0) == "Thu, 1 Jan 1970 00:00:00 +0000");
    CHECK(rfc5322_date(1795348800) == "Sun, 22 Nov 2026 12:00:00 +0000");
    CHECK(rfc5322_date(951868799) == "Tue, 29 Feb 2000 23:59:59 +0000");
    const std::regex rfc5322(R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} )"
                             R"((Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} )"
                             R"([0-9]{2}:[0-9]{2}:[0-9]{2} \+0000)");
    for (std::time_t t : {std::time_t{0}, std::time_t{86399}, std::time_t{1700000000}, std::time_t{4102444799}})
        CHECK(std::regex_match(rfc5322_date(t), rfc5322));
}

TEST_CASE("received_header: TLS form, one recipient", "[received]") {
    auto r = base();
    r.protocol = "ESMTPS";
    r.tls_version = "TLSv1.3";
    r.tls_cipher = "TLS_AES_256_GCM_SHA384";
    r.tls_bits = 256;
    r.for_rcpt = "bob@one.example";
    const std::string h = received_header(r);
    CHECK(h ==
          "Received: from client.example.net ([198.51.100.7])\r\n"
          "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256 bits))\r\n"
          "\tby mx.test.example (mxgate) with ESMTPS id 0123456789ABCDEF0123\r\n"
          "\tfor <bob@one.example>; Sun, 22 Nov 2026 12:00:00 +0000\r\n");
    check_folding(h);
    CHECK(h.find("plaintext") == std::string::npos);
}

TEST_CASE("received_header: plaintext form, several recipients (no for)", "[received]") {
    auto r = base();  // for_rcpt empty: the session sets it only for exactly one
    const std::string h = received_header(r);
    CHECK(h ==
          "Received: from client.example.net ([198.51.100.7])\r\n"
          "\t(no TLS: received in plaintext)\r\n"
          "\tby mx.test.example (mxgate) with ESMTP id 0123456789ABCDEF0123; "
          "Sun, 22 Nov 2026 12:00:00 +0000\r\n");
    CHECK(h.find("for <") == std::string::npos);
    CHECK(h.find("using") == std::string::npos);
    check_folding(h);
}

TEST_CASE("received_header: unknown HELO, TLS without bits", "[received]") {
    auto r = base();
    r.helo.clear();
    r.tls_version = "TLSv1.2";
    r.tls_cipher = "ECDHE-RSA-AES128-GCM-SHA256";
    const std::string h = received_header(r);
    CHECK(h.rfind("Received: from unknown ([198.51.100.7])\r\n", 0) == 0);
    CHECK(h.find("(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256)\r\n") != std::string::npos);
    CHECK(h.find("bits") == std::string::npos);
}

TEST_CASE("received_header: hostile text is sanitised", "[received]") {
    auto r = base();
    r.helo = "evil.example)\r\nBcc: victim@example.org\r\n (x";
    r.tls_version = "TLSv1.3\r\nX-Injected: 1";
    r.tls_cipher = "A(B)C";
    r.for_rcpt = "bob@one.example>\r\nX-Evil: 2";
    r.client_ip = "1.2.3.4\n";
    r.by_host = "mx\x01host";
    const std::string h = received_header(r);
    check_folding(h);
    // Exactly the four lines of a TLS form with a "for": no injected line.
    size_t lines = 0;
    for (size_t p = 0; (p = h.find("\r\n", p)) != std::string::npos; p += 2) ++lines;
    CHECK(lines == 4);
    CHECK(h.find("\r\nBcc:") == std::string::npos);
    CHECK(h.find("\r\nX-") == std::string::npos);
    CHECK(h.find('\x01') == std::string::npos);
    // The peer's parentheses cannot close or open a comment.
    const std::string first = h.substr(0, h.find("\r\n"));
    CHECK(first == "Received: from evil.example???Bcc:?victim@example.org????x ([1.2.3.4?])");
    CHECK(h.find("A?B?C") != std::string::npos);
}

TEST_CASE("received_header: no line longer than 998 octets for long names", "[received]") {
    auto r = base();
    r.helo = std::string(250, 'a') + ".example";
    r.for_rcpt = std::string(64, 'b') + "@" + std::string(180, 'c') + ".example";
    r.tls_version = "TLSv1.3";
    r.tls_cipher = "TLS_AES_128_GCM_SHA256";
    const std::string h = received_header(r);
    size_t start = 0;
    for (size_t p; (p = h.find("\r\n", start)) != std::string::npos; start = p + 2) CHECK(p - start <= 998);
}

TEST_CASE("received_header: IPv6 client as an RFC 5321 IPv6 address literal", "[received]") {
    auto r = base();
    r.client_ip = "2001:db8::25";
    const std::string h = received_header(r);
    CHECK(h.rfind("Received: from client.example.net ([IPv6:2001:db8::25])\r\n", 0) == 0);
    r.client_ip = "198.51.100.7";
    CHECK(received_header(r).find("IPv6:") == std::string::npos);
}
