// Tests for dmarc/address_parser: a table of From:-style values and the
// mailboxes (or the error) they give.
#include <catch2/catch.hpp>

#include <string>

#include "dmarc/address_parser.hpp"

using namespace mxgate::dmarc;

namespace {

// "local@domain|display" per mailbox, joined by " ; ", or "ERR".
std::string render(std::string_view v) {
    const AddressParse p = parse_address_list(v);
    if (!p.ok()) return "ERR";
    std::string out;
    for (const auto& m : p.list->mailboxes) {
        if (!out.empty()) out += " ; ";
        out += m.local_part + "@" + m.domain + "|" + m.display_name;
        if (m.in_group) out += "|g";
    }
    return out;
}

}  // namespace

TEST_CASE("address list: ordinary forms") {
    CHECK(render("alice@example.org") == "alice@example.org|");
    CHECK(render(" Alice <alice@example.org>") == "alice@example.org|Alice");
    CHECK(render("\"Alice Q. User\" <alice@example.org>") == "alice@example.org|Alice Q. User");
    CHECK(render("Alice Q. User <alice@example.org>") == "alice@example.org|Alice Q. User");
    CHECK(render("<alice@example.org>") == "alice@example.org|");
    CHECK(render("a@x.example, B <b@y.example>") == "a@x.example| ; b@y.example|B");
    CHECK(render("") == "");
    CHECK(render("  ") == "");
}

TEST_CASE("address list: comments and CFWS around the domain") {
    CHECK(render("alice@(comment)example.org(trailing)") == "alice@example.org|");
    CHECK(render("alice (Alice (nested) \\) x) @ example . org") == "alice@example.org|");
    CHECK(render("(bank.example) alice@evil.example") == "alice@evil.example|");
    CHECK(render("alice@evil.example (via bank.example)") == "alice@evil.example|");
    CHECK(render("Alice <alice@example.org (not bank.example)>") == "alice@example.org|Alice");
    CHECK(render("alice@(unterminated example.org") == "ERR");
    CHECK(render("alice@example.org)") == "ERR");
}

TEST_CASE("address list: quoted strings hide specials") {
    CHECK(render("\"ceo@bank.example\" <x@evil.example>") == "x@evil.example|ceo@bank.example");
    CHECK(render("\"a@bank.example\"@evil.example") == "a@bank.example@evil.example|");
    CHECK(render("\"a\\\"b, <c@d.example>\" <x@evil.example>") == "x@evil.example|a\"b, <c@d.example>");
    CHECK(render("\"unterminated <x@evil.example>") == "ERR");
}

TEST_CASE("address list: encoded words are decoded after the structure is fixed") {
    CHECK(render("=?utf-8?q?ceo=40bank=2Eexample_=3Cceo=40bank=2Eexample=3E?= <x@evil.example>") ==
          "x@evil.example|ceo@bank.example <ceo@bank.example>");
    CHECK(render("=?UTF-8?B?QWxpY2U=?= =?UTF-8?B?IFVzZXI=?= <a@example.org>") == "a@example.org|Alice User");
    CHECK(render("=?utf-8?q?bad=ZZ?= <a@example.org>") == "a@example.org|=?utf-8?q?bad=ZZ?=");
    // An encoded word is only an atom: never an address by itself.
    CHECK(render("=?utf-8?q?a=40bank=2Eexample?=") == "ERR");
    CHECK(decode_encoded_words("=?iso-8859-1?q?caf=E9?= bar") == "caf\xE9 bar");
}

TEST_CASE("address list: groups") {
    CHECK(render("undisclosed-recipients:;") == "");
    CHECK(render("Team: a@x.example, b@y.example;") == "a@x.example||g ; b@y.example||g");
    CHECK(render("Team: a@x.example;, c@z.example") == "a@x.example||g ; c@z.example|");
    CHECK(render("Team: a@x.example") == "ERR");
    CHECK(render(": a@x.example;") == "ERR");
    CHECK(render("Outer: Inner: a@x.example;;") == "ERR");
    const AddressParse p = parse_address_list("G:;");
    REQUIRE(p.ok());
    CHECK(p.list->groups == 1);
}

TEST_CASE("address list: obsolete forms") {
    CHECK(render("<@relay.example,@other.example:alice@example.org>") == "alice@example.org|");
    CHECK(render("a@x.example,,b@y.example,") == "a@x.example| ; b@y.example|");
    CHECK(render("john . doe @ example . org") == "john.doe@example.org|");
    CHECK(render("john..doe@example.org") == "john..doe@example.org|");
    CHECK(render("Mr. Smith <smith@example.org>") == "smith@example.org|Mr. Smith");
}

TEST_CASE("address list: domain literals and broken mailboxes") {
    const AddressParse p = parse_address_list("a@[192.0.2.1]");
    REQUIRE(p.ok());
    CHECK(p.list->mailboxes[0].domain_literal);
    CHECK(p.list->mailboxes[0].domain == "[192.0.2.1]");
    CHECK(render("alice") == "ERR");
    CHECK(render("Alice <alice>") == "ERR");
    CHECK(render("alice@") == "ERR");
    CHECK(render("alice@example.org.") == "ERR");
    CHECK(render("alice@.example.org") == "ERR");
    CHECK(render("a@x.example b@y.example") == "ERR");
    CHECK(render("Alice <a@x.example") == "ERR");
    CHECK(render("a@x.example>") == "ERR");
    CHECK(render("a\\b@x.example") == "ERR");
    CHECK(render(std::string("a@x.exa\0mple", 12)) == "ERR");
}

TEST_CASE("mailbox: address() re-quotes and re-parses") {
    const AddressParse p = parse_address_list("\"a b\"@Example.ORG");
    REQUIRE(p.ok());
    const Mailbox& m = p.list->mailboxes[0];
    CHECK(m.address() == "\"a b\"@Example.ORG");
    CHECK(m.domain_lower() == "example.org");
    const AddressParse again = parse_address_list(m.address());
    REQUIRE(again.ok());
    CHECK(again.list->mailboxes[0].local_part == "a b");
}
