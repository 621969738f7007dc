// Tests for dmarc/author: SPEC §6 From: rules on whole header blocks.
#include <catch2/catch.hpp>

#include <string>

#include "dmarc/author.hpp"

using namespace mxgate::dmarc;

namespace {
Author author_of(const std::string& headers) { return find_author(split_header_block(headers + "\r\nbody\r\n")); }
}  // namespace

TEST_CASE("author: exactly one From: with one mailbox") {
    const Author a = author_of("From: Alice <alice@Sub.Example.ORG>\r\nTo: b@example.net\r\n");
    REQUIRE(a.ok);
    REQUIRE(a.domains.size() == 1);
    CHECK(a.domains[0] == "sub.example.org");
}

TEST_CASE("author: the SPEC §6 refusals") {
    CHECK(author_of("To: b@example.net\r\n").reason == "message has no From: header");
    CHECK(author_of("From: a@x.example\r\nfrom: b@y.example\r\n").reason == "message has more than one From: header");
    CHECK(author_of("From: a@x.example, b@y.example\r\n").reason ==
          "From: header has several addresses and there is no Sender: header");
    CHECK(author_of("From: undisclosed:;\r\n").reason == "From: header has no address");
    CHECK(author_of("From:\r\n").reason == "From: header has no address");
    CHECK_FALSE(author_of("From: alice\r\n").ok);
    CHECK_FALSE(author_of("From: a@[192.0.2.1]\r\n").ok);
    CHECK_FALSE(author_of("From: a@localhost\r\n").ok);
    CHECK_FALSE(author_of("From: a@exa$mple.org\r\n").ok);
}

TEST_CASE("author: several mailboxes with Sender: give every distinct domain") {
    const Author a = author_of("From: a@x.example, b@Y.example, c@x.example\r\nSender: a@x.example\r\n");
    REQUIRE(a.ok);
    CHECK(a.domains == std::vector<std::string>{"x.example", "y.example"});
    CHECK(a.mailboxes.size() == 3);
}

TEST_CASE("author: a From: folded over lines and hidden after a junk line still counts") {
    CHECK(author_of("From: Alice\r\n <alice@example.org>\r\n").domains[0] == "example.org");
    CHECK_FALSE(author_of("From: a@x.example\r\njunk line\r\nFrom: b@y.example\r\n").ok);
}

TEST_CASE("author: DNS name check") {
    CHECK(is_dns_domain("example.org"));
    CHECK(is_dns_domain("_x.a-b.example"));
    CHECK_FALSE(is_dns_domain("example"));
    CHECK_FALSE(is_dns_domain("-a.example"));
    CHECK_FALSE(is_dns_domain("a..example"));
    CHECK_FALSE(is_dns_domain(std::string(64, 'a') + ".example"));
}
