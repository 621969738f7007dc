// Tests for relay/smtp/address_class and recipient_policy: every open-relay
// form is refused with 554 5.7.1, owner-domain recipients are matched as
// Postfix does, unknown local users get 550 5.1.1.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "relay/smtp/smtp.hpp"

using namespace mxgate;
using namespace mxgate::smtp;

namespace {

conf::Config make_config() {
    conf::Config c;
    conf::Domain org;
    org.name = "example.org";
    org.recipients = {"alice@example.org", "bob.smith@example.org", "j\xc3\xb6rg@example.org"};
    conf::Domain net;
    net.name = "example.net";
    net.recipients = {"@example.net"};
    conf::Domain empty;
    empty.name = "empty.example";
    c.domains = {org, net, empty};
    return c;
}

// "RCPT TO:<...>" line → "250 2.1.5 example.org" / "554 5.7.1" / "550 5.1.1"
// / "ERR 501 5.1.3" when the parser already refuses it.
std::string decide(const conf::Config& cfg, const std::string& rcpt_line) {
    const ParseResult p = parse_command(rcpt_line);
    if (!p.ok()) {
        const auto r = replies::parse_error(p);
        return "ERR " + std::to_string(r.code) + " " + r.enhanced;
    }
    const auto d = check_recipient(cfg, std::get<PathArgs>(p.command.args).path);
    std::string out = std::to_string(d.reply.code) + " " + d.reply.enhanced;
    if (d.accepted()) {
        REQUIRE(d.domain != nullptr);
        out += " " + d.domain->name;
    }
    return out;
}

struct Row {
    const char* rcpt;
    const char* expect;
};

}  // namespace

TEST_CASE("recipient policy: open-relay forms are always 554 5.7.1", "[policy][relay]") {
    const auto cfg = make_config();
    const std::vector<Row> rows = {
        // %-hack, also with an owner domain on either side
        {"RCPT TO:<user%other.example@example.org>", "554 5.7.1"},
        {"RCPT TO:<alice%example.org@example.org>", "554 5.7.1"},
        {"RCPT TO:<user%other.example@example.net>", "554 5.7.1"},  // despite the @example.net wildcard
        // UUCP bang paths
        {"RCPT TO:<other.example!user@example.org>", "554 5.7.1"},
        {"RCPT TO:<other.example!user@example.net>", "554 5.7.1"},
        // quoted local parts with routing characters
        {"RCPT TO:<\"user@other.example\"@example.org>", "554 5.7.1"},
        {"RCPT TO:<\"user@other.example\"@example.net>", "554 5.7.1"},
        {"RCPT TO:<\"user%other.example\"@example.net>", "554 5.7.1"},
        {"RCPT TO:<\"other.example!user\"@example.net>", "554 5.7.1"},
        // source routes, through and to owner domains
        {"RCPT TO:<@example.org:user@other.example>", "554 5.7.1"},
        {"RCPT TO:<@example.org:alice@example.org>", "554 5.7.1"},
        {"RCPT TO:<@other.example,@example.org:alice@example.net>", "554 5.7.1"},
        // address literals, trailing dots, unqualified
        {"RCPT TO:<user@[192.0.2.1]>", "554 5.7.1"},
        {"RCPT TO:<user@[IPv6:2001:db8::1]>", "554 5.7.1"},
        {"RCPT TO:<user@other.example.>", "554 5.7.1"},
        {"RCPT TO:<alice@example.org.>", "554 5.7.1"},
        {"RCPT TO:<user@example.net.>", "554 5.7.1"},
        {"RCPT TO:<alice>", "554 5.7.1"},
        {"RCPT TO:<alice@>", "554 5.7.1"},
        {"RCPT TO:<\"postmaster\">", "554 5.7.1"},
        // plain foreign domains, look-alikes and subdomains
        {"RCPT TO:<user@other.example>", "554 5.7.1"},
        {"RCPT TO:<alice@sub.example.org>", "554 5.7.1"},
        {"RCPT TO:<alice@example.org.evil.example>", "554 5.7.1"},
        {"RCPT TO:<alice@xexample.org>", "554 5.7.1"},
        {"RCPT TO:<alice@example.or>", "554 5.7.1"},
        {"RCPT TO:<alice@example.org@other.example>", "ERR 501 5.1.3"},
        {"RCPT TO:<>", "ERR 501 5.1.3"},
        {"RCPT TO:alice@example.org", "ERR 501 5.5.4"},
    };
    for (const auto& row : rows) {
        INFO(row.rcpt);
        CHECK(decide(cfg, row.rcpt) == row.expect);
    }
}

TEST_CASE("recipient policy: owner-domain recipients", "[policy]") {
    const auto cfg = make_config();
    const std::vector<Row> rows = {
        {"RCPT TO:<alice@example.org>", "250 2.1.5 example.org"},
        {"RCPT TO:<alice@EXAMPLE.ORG>", "250 2.1.5 example.org"},   // upper-case owner domain
        {"RCPT TO:<Alice@Example.Org>", "250 2.1.5 example.org"},   // local part case-insensitive
        {"RCPT TO:<ALICE@example.org>", "250 2.1.5 example.org"},
        {"RCPT TO:<\"alice\"@example.org>", "250 2.1.5 example.org"},  // decoded form compared
        {"RCPT TO:<bob.smith@example.org>", "250 2.1.5 example.org"},
        {"RCPT TO:<j\xc3\xb6rg@example.org>", "250 2.1.5 example.org"},
        {"RCPT TO:<bob@example.org>", "550 5.1.1"},
        {"RCPT TO:<alice.x@example.org>", "550 5.1.1"},
        {"RCPT TO:<alic@example.org>", "550 5.1.1"},
        {"RCPT TO:<alice+tag@example.org>", "550 5.1.1"},
        {"RCPT TO:<\"john doe\"@example.org>", "550 5.1.1"},
        {"RCPT TO:<anyone@example.net>", "250 2.1.5 example.net"},  // @domain wildcard
        {"RCPT TO:<Anyone@Example.NET>", "250 2.1.5 example.net"},
        {"RCPT TO:<anyone@empty.example>", "550 5.1.1"},            // empty list accepts nobody
        // RFC 5321 §4.5.1 postmaster
        {"RCPT TO:<postmaster>", "250 2.1.5 example.org"},
        {"RCPT TO:<POSTMASTER>", "250 2.1.5 example.org"},
        {"RCPT TO:<postmaster@example.org>", "250 2.1.5 example.org"},
        {"RCPT TO:<Postmaster@empty.example>", "250 2.1.5 empty.example"},
        {"RCPT TO:<postmaster@other.example>", "554 5.7.1"},
        {"RCPT TO:<@example.org:postmaster@example.org>", "554 5.7.1"},
    };
    for (const auto& row : rows) {
        INFO(row.rcpt);
        CHECK(decide(cfg, row.rcpt) == row.expect);
    }
}

TEST_CASE("recipient policy: no owner domains means nothing is accepted", "[policy]") {
    conf::Config cfg;
    CHECK(decide(cfg, "RCPT TO:<postmaster>") == "554 5.7.1");
    CHECK(decide(cfg, "RCPT TO:<alice@example.org>") == "554 5.7.1");
}

TEST_CASE("classify_relay flags each form", "[relay]") {
    struct C {
        const char* mailbox;
        uint32_t flags;
    };
    namespace rf = relay_form;
    const std::vector<C> cases = {
        {"user@example.org", rf::none},
        {"user%other@example.org", rf::percent_hack},
        {"a!b@example.org", rf::bang_path},
        {"a!b%c@example.org", rf::bang_path | rf::percent_hack},
        {"\"a@b\"@example.org", rf::quoted_routing},
        {"\"a b\"@example.org", rf::none},
        {"@r.example:user@example.org", rf::source_route},
        {"user@[192.0.2.1]", rf::address_literal},
        {"user@example.org.", rf::trailing_dot},
        {"user", rf::no_domain},
        {"user@", rf::no_domain},
        {"postmaster", rf::none},
    };
    for (const auto& c : cases) {
        INFO(c.mailbox);
        const auto p = parse_mailbox(c.mailbox);
        REQUIRE(p);
        CHECK(classify_relay(*p) == c.flags);
    }
    CHECK(relay_form_names(rf::percent_hack | rf::source_route) == "percent_hack,source_route");
    CHECK(relay_form_names(rf::none).empty());
}

TEST_CASE("recipient policy reports the relay forms that caused a denial", "[policy]") {
    const auto cfg = make_config();
    const auto p = parse_mailbox("user%other.example@example.org");
    REQUIRE(p);
    const auto d = check_recipient(cfg, *p);
    CHECK(d.kind == RecipientDecision::Kind::relay_denied);
    CHECK(d.relay_forms == relay_form::percent_hack);
    CHECK(d.reply.lines.at(0) == "Relay access denied");
}
