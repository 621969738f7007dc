// Tests for relay/smtp/command_parser, path_parser, esmtp_params: a table of
// command lines and the canonical rendering of the parse (or its reply).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "relay/smtp/smtp.hpp"

using namespace mxgate::smtp;

namespace {

// A compact, canonical rendering of a ParseResult for table comparison.
std::string render(const ParseResult& p) {
    if (!p.ok()) {
        const auto r = replies::parse_error(p);
        return "ERR " + std::to_string(r.code) + " " + r.enhanced;
    }
    std::string out(verb_name(p.command.verb));
    if (const auto* h = std::get_if<HeloArgs>(&p.command.args)) {
        out += " " + h->domain + (h->address_literal ? " literal" : "");
    } else if (const auto* pa = std::get_if<PathArgs>(&p.command.args)) {
        const Path& path = pa->path;
        out += " <" + path.address() + ">";
        if (path.null) out += " null";
        if (path.postmaster) out += " postmaster";
        for (const auto& r : path.route) out += " route=" + r;
        if (path.quoted_local) out += " quoted local=" + path.local_part;
        if (path.address_literal) out += " literal";
        if (path.trailing_dot) out += " trailing-dot";
        if (!path.has_at && !path.null && !path.postmaster) out += " no-at";
        if (path.utf8) out += " utf8";
        for (const auto& [k, v] : pa->params.all) out += " " + k + (v.empty() ? "" : "=" + v);
    } else if (const auto* b = std::get_if<BdatArgs>(&p.command.args)) {
        out += " " + std::to_string(b->size) + (b->last ? " LAST" : "");
    } else if (const auto* a = std::get_if<AuthArgs>(&p.command.args)) {
        out += " " + a->mechanism + (a->initial_response ? " ir=" + *a->initial_response : "");
    } else if (const auto* e = std::get_if<EtrnArgs>(&p.command.args)) {
        static const char* kinds[] = {"domain", "subdomains", "queue"};
        out += std::string(" ") + kinds[static_cast<int>(e->kind)] + "=" + e->name;
    } else if (const auto* t = std::get_if<TextArgs>(&p.command.args)) {
        if (!t->text.empty()) out += " text=" + t->text;
    }
    return out;
}

struct Row {
    const char* line;
    const char* expect;
};

void run_table(const std::vector<Row>& rows) {
    for (const auto& row : rows) {
        INFO("line: " << row.line);
        CHECK(render(parse_command(row.line)) == row.expect);
    }
}

}  // namespace

TEST_CASE("command parser: verbs and simple arguments", "[command]") {
    run_table({
        {"NOOP", "NOOP"},
        {"noop", "NOOP"},
        {"NoOp hello there", "NOOP text=hello there"},
        {"QUIT", "QUIT"},
        {"QUIT now", "ERR 501 5.5.4"},
        {"DATA", "DATA"},
        {"DATA x", "ERR 501 5.5.4"},
        {"DATA ", "DATA"},  // trailing whitespace tolerated
        {"RSET", "RSET"},
        {"RSET x", "ERR 501 5.5.4"},
        {"STARTTLS", "STARTTLS"},
        {"starttls x", "ERR 501 5.5.4"},
        {"HELP", "HELP"},
        {"HELP MAIL", "HELP text=MAIL"},
        {"VRFY", "ERR 501 5.5.4"},
        {"VRFY alice", "VRFY text=alice"},
        {"EXPN list", "EXPN text=list"},
        {"", "ERR 500 5.5.1"},
        {"FOO", "ERR 500 5.5.1"},
        {"MAILX FROM:<a@b.c>", "ERR 500 5.5.1"},
        {" NOOP", "ERR 500 5.5.1"},
        {"NOOP\tx", "ERR 500 5.5.1"},
        {"GET / HTTP/1.1", "ERR 500 5.5.1"},
    });
}

TEST_CASE("command parser: HELO and EHLO", "[command]") {
    run_table({
        {"EHLO client.example.com", "EHLO client.example.com"},
        {"ehlo CLIENT.example.COM", "EHLO CLIENT.example.COM"},
        {"HELO localhost", "HELO localhost"},
        {"EHLO [192.0.2.1]", "EHLO [192.0.2.1] literal"},
        {"EHLO [IPv6:2001:db8::1]", "EHLO [IPv6:2001:db8::1] literal"},
        {"EHLO [ipv6:::ffff:192.0.2.1]", "EHLO [ipv6:::ffff:192.0.2.1] literal"},
        {"EHLO my_host.example", "EHLO my_host.example"},  // '_' tolerated (RFC 5321 §4.1.4)
        {"EHLO host.example.", "EHLO host.example."},
        {"EHLO", "ERR 501 5.5.4"},
        {"HELO", "ERR 501 5.5.4"},
        {"EHLO a b", "ERR 501 5.5.4"},
        {"EHLO -bad.example", "ERR 501 5.5.4"},
        {"EHLO bad-.example", "ERR 501 5.5.4"},
        {"EHLO a..b", "ERR 501 5.5.4"},
        {"EHLO [192.0.2.256]", "ERR 501 5.5.4"},
        {"EHLO [192.0.2]", "ERR 501 5.5.4"},
        {"EHLO [IPv6:1:2:3:4:5:6:7]", "ERR 501 5.5.4"},
        {"EHLO [IPv6:1:2:3:4:5:6:7:8]", "EHLO [IPv6:1:2:3:4:5:6:7:8] literal"},
        {"EHLO [IPv6:1::2::3]", "ERR 501 5.5.4"},
        {"EHLO [foo:bar]", "ERR 501 5.5.4"},
        {"EHLO h\xc3\xa9.example", "ERR 501 5.5.4"},  // U-labels not allowed in EHLO
    });
}

TEST_CASE("command parser: MAIL FROM", "[command][path]") {
    run_table({
        {"MAIL FROM:<alice@example.org>", "MAIL <alice@example.org>"},
        {"mail from:<alice@example.org>", "MAIL <alice@example.org>"},
        {"MAIL FROM: <alice@example.org>", "MAIL <alice@example.org>"},  // Postfix tolerance
        {"MAIL FROM:<>", "MAIL <> null"},
        {"MAIL FROM: <>", "MAIL <> null"},
        {"MAIL FROM:alice@example.org", "ERR 501 5.5.4"},  // unbracketed: never
        {"MAIL FROM:<alice@example.org", "ERR 501 5.1.7"},
        {"MAIL FROM <alice@example.org>", "ERR 501 5.5.4"},
        {"MAIL TO:<alice@example.org>", "ERR 501 5.5.4"},
        {"MAIL", "ERR 501 5.5.4"},
        {"MAIL FROM:", "ERR 501 5.5.4"},
        {"MAIL FROM:<alice>", "ERR 501 5.1.7"},       // unqualified sender
        {"MAIL FROM:<alice@>", "ERR 501 5.1.7"},
        {"MAIL FROM:<postmaster>", "ERR 501 5.1.7"},  // bare postmaster: RCPT only
        {"MAIL FROM:<alice@example.org.>", "ERR 501 5.1.7"},
        {"MAIL FROM:<@relay.example:alice@example.org>", "MAIL <alice@example.org> route=relay.example"},
        {"MAIL FROM:<alice@[192.0.2.1]>", "MAIL <alice@[192.0.2.1]> literal"},
        {"MAIL FROM:<\"john doe\"@example.org>", "MAIL <\"john doe\"@example.org> quoted local=john doe"},
        {"MAIL FROM:<\"a\\\"b\"@example.org>", "MAIL <\"a\\\"b\"@example.org> quoted local=a\"b"},
        {"MAIL FROM:<a..b@example.org>", "ERR 501 5.1.7"},
        {"MAIL FROM:<.a@example.org>", "ERR 501 5.1.7"},
        {"MAIL FROM:<a.@example.org>", "ERR 501 5.1.7"},
        {"MAIL FROM:<a b@example.org>", "ERR 501 5.1.7"},
        {"MAIL FROM:<a@b@example.org>", "ERR 501 5.1.7"},
        {"MAIL FROM:<a@example..org>", "ERR 501 5.1.7"},
        {"MAIL FROM:<a@exa_mple.org>", "ERR 501 5.1.7"},
        {"MAIL FROM:<\"\"@example.org>", "ERR 501 5.1.7"},
        {"MAIL FROM:<alice@example.org> trailing", "ERR 555 5.5.4"},
        {"MAIL FROM:<alice@example.org>junk", "ERR 501 5.1.7"},
        {"MAIL FROM:<alice@example.org> ", "MAIL <alice@example.org>"},
        {"MAIL FROM:<j\xc3\xb6rg@b\xc3\xbc" "cher.example> SMTPUTF8", "MAIL <j\xc3\xb6rg@b\xc3\xbc" "cher.example> utf8 SMTPUTF8"},
        {"MAIL FROM:<j\xc3rg@example.org>", "ERR 501 5.1.7"},  // malformed UTF-8
        {"MAIL FROM:<a\xc0\xaf@example.org>", "ERR 501 5.1.7"},  // overlong UTF-8
    });
}

TEST_CASE("command parser: MAIL parameters", "[command][params]") {
    run_table({
        {"MAIL FROM:<a@b.example> SIZE=1000", "MAIL <a@b.example> SIZE=1000"},
        {"MAIL FROM:<a@b.example> size=0", "MAIL <a@b.example> SIZE=0"},
        {"MAIL FROM:<a@b.example> SIZE=18446744073709551615", "MAIL <a@b.example> SIZE=18446744073709551615"},
        {"MAIL FROM:<a@b.example> SIZE=18446744073709551616", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> SIZE=12k", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> SIZE=-1", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> SIZE", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> SIZE=", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> SIZE=1 SIZE=2", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> BODY=8BITMIME", "MAIL <a@b.example> BODY=8BITMIME"},
        {"MAIL FROM:<a@b.example> body=7bit", "MAIL <a@b.example> BODY=7bit"},
        {"MAIL FROM:<a@b.example> BODY=BINARYMIME", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> SMTPUTF8", "MAIL <a@b.example> SMTPUTF8"},
        {"MAIL FROM:<a@b.example> SMTPUTF8=yes", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> RET=HDRS ENVID=QQ314159", "MAIL <a@b.example> ENVID=QQ314159 RET=HDRS"},
        {"MAIL FROM:<a@b.example> RET=BODY", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> ENVID=a+2Bb", "MAIL <a@b.example> ENVID=a+2Bb"},
        {"MAIL FROM:<a@b.example> ENVID=a+2b", "ERR 501 5.5.4"},  // hexchar is upper-case
        {"MAIL FROM:<a@b.example> ENVID=a+2", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> AUTH=<>", "MAIL <a@b.example> AUTH=<>"},
        {"MAIL FROM:<a@b.example> NOTIFY=NEVER", "ERR 555 5.5.4"},  // RCPT-only parameter
        {"MAIL FROM:<a@b.example> ORCPT=rfc822;a@b", "ERR 555 5.5.4"},
        {"MAIL FROM:<a@b.example> XFOO=1", "ERR 555 5.5.4"},
        {"MAIL FROM:<a@b.example> X-FOO", "ERR 555 5.5.4"},
        {"MAIL FROM:<a@b.example> -X", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> SIZE=1  BODY=8BITMIME", "MAIL <a@b.example> BODY=8BITMIME SIZE=1"},
        {"MAIL FROM:<a@b.example> SIZE=1=2", "ERR 501 5.5.4"},
        // RFC 8689 §2: REQUIRETLS has no value and belongs to MAIL only.
        {"MAIL FROM:<a@b.example> REQUIRETLS", "MAIL <a@b.example> REQUIRETLS"},
        {"MAIL FROM:<a@b.example> requiretls", "MAIL <a@b.example> REQUIRETLS"},
        {"MAIL FROM:<> REQUIRETLS", "MAIL <> null REQUIRETLS"},
        {"MAIL FROM:<a@b.example> REQUIRETLS=yes", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> REQUIRETLS=", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> REQUIRETLS REQUIRETLS", "ERR 501 5.5.4"},
        {"MAIL FROM:<a@b.example> REQUIRE-TLS", "ERR 555 5.5.4"},
    });
    for (const char* line : {"MAIL FROM:<a@b.example> REQUIRETLS SIZE=10", "MAIL FROM:<a@b.example> SMTPUTF8 requiretls"}) {
        const auto r = parse_command(line);
        REQUIRE(r.ok());
        CHECK(std::get<PathArgs>(r.command.args).params.requiretls);
    }
    CHECK_FALSE(std::get<PathArgs>(parse_command("MAIL FROM:<a@b.example> SIZE=10").command.args).params.requiretls);
    const auto p = parse_command("MAIL FROM:<a@b.example> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=FULL");
    REQUIRE(p.ok());
    const auto& params = std::get<PathArgs>(p.command.args).params;
    CHECK(params.size == 1234u);
    CHECK(params.body == BodyType::eight_bit_mime);
    CHECK(params.smtputf8);
    CHECK(params.ret == RetType::full);
}

TEST_CASE("command parser: RCPT TO", "[command][path]") {
    run_table({
        {"RCPT TO:<bob@example.org>", "RCPT <bob@example.org>"},
        {"rcpt to: <bob@example.org>", "RCPT <bob@example.org>"},
        {"RCPT TO:bob@example.org", "ERR 501 5.5.4"},
        {"RCPT TO:<>", "ERR 501 5.1.3"},
        {"RCPT TO:<postmaster>", "RCPT <postmaster> postmaster"},
        {"RCPT TO:<bob@example.org> REQUIRETLS", "ERR 555 5.5.4"},  // MAIL-only (RFC 8689 §2)
        {"RCPT TO:<PostMaster>", "RCPT <postmaster> postmaster"},
        {"RCPT TO:<\"postmaster\">", "RCPT <\"postmaster\"> quoted local=postmaster no-at"},
        {"RCPT TO:<bob>", "RCPT <bob> no-at"},
        {"RCPT TO:<bob@>", "RCPT <bob@>"},  // has "@", empty domain: classified no_domain
        {"RCPT TO:<bob@> ", "RCPT <bob@>"},
        {"RCPT TO:<bob@example.org.>", "RCPT <bob@example.org.> trailing-dot"},
        {"RCPT TO:<bob@example.org..>", "ERR 501 5.1.3"},
        {"RCPT TO:<bob@.>", "ERR 501 5.1.3"},
        {"RCPT TO:<@a.example,@b.example:bob@c.example>",
         "RCPT <bob@c.example> route=a.example route=b.example"},
        {"RCPT TO:<@a.example:>", "ERR 501 5.1.3"},
        {"RCPT TO:<@a.example bob@c.example>", "ERR 501 5.1.3"},
        {"RCPT TO:<@:bob@c.example>", "ERR 501 5.1.3"},
        {"RCPT TO:<user%other.example@example.org>", "RCPT <user%other.example@example.org>"},
        {"RCPT TO:<other.example!user@example.org>", "RCPT <other.example!user@example.org>"},
        {"RCPT TO:<\"user@other.example\"@example.org>",
         "RCPT <\"user@other.example\"@example.org> quoted local=user@other.example"},
        {"RCPT TO:<bob@[192.0.2.1]>", "RCPT <bob@[192.0.2.1]> literal"},
        {"RCPT TO:<bob@[192.0.2.1>", "ERR 501 5.1.3"},
        {"RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE", "RCPT <bob@example.org> NOTIFY=SUCCESS,FAILURE"},
        {"RCPT TO:<bob@example.org> NOTIFY=NEVER", "RCPT <bob@example.org> NOTIFY=NEVER"},
        {"RCPT TO:<bob@example.org> NOTIFY=NEVER,DELAY", "ERR 501 5.5.4"},
        {"RCPT TO:<bob@example.org> NOTIFY=SUCCESS,SUCCESS", "ERR 501 5.5.4"},
        {"RCPT TO:<bob@example.org> NOTIFY=SOMETIMES", "ERR 501 5.5.4"},
        {"RCPT TO:<bob@example.org> NOTIFY=", "ERR 501 5.5.4"},
        {"RCPT TO:<bob@example.org> ORCPT=rfc822;bob@example.org", "RCPT <bob@example.org> ORCPT=rfc822;bob@example.org"},
        {"RCPT TO:<bob@example.org> ORCPT=rfc822", "ERR 501 5.5.4"},
        {"RCPT TO:<bob@example.org> SIZE=10", "ERR 555 5.5.4"},
        {"RCPT TO:<bob@example.org> BODY=8BITMIME", "ERR 555 5.5.4"},
        {"RCPT TO:<bob@example.org> FOO", "ERR 555 5.5.4"},
        {"RCPT FROM:<bob@example.org>", "ERR 501 5.5.4"},
    });
}

TEST_CASE("command parser: BDAT, ETRN, AUTH", "[command]") {
    run_table({
        {"BDAT 1000", "BDAT 1000"},
        {"BDAT 0 LAST", "BDAT 0 LAST"},
        {"bdat 12 last", "BDAT 12 LAST"},
        {"BDAT", "ERR 501 5.5.4"},
        {"BDAT -1", "ERR 501 5.5.4"},
        {"BDAT 1 FIRST", "ERR 501 5.5.4"},
        {"BDAT 1 LAST X", "ERR 501 5.5.4"},
        {"BDAT 99999999999999999999", "ERR 501 5.5.4"},
        {"BDAT 18446744073709551615", "BDAT 18446744073709551615"},
        {"ETRN example.org", "ETRN domain=example.org"},
        {"ETRN @example.org", "ETRN subdomains=example.org"},
        {"ETRN #queue1", "ETRN queue=queue1"},
        {"ETRN", "ERR 501 5.5.4"},
        {"ETRN #", "ERR 501 5.5.4"},
        {"ETRN exa mple.org", "ERR 501 5.5.4"},
        {"AUTH PLAIN", "AUTH PLAIN"},
        {"auth plain AGFsaWNlAHNlY3JldA==", "AUTH PLAIN ir=AGFsaWNlAHNlY3JldA=="},
        {"AUTH LOGIN =", "AUTH LOGIN ir=="},
        {"AUTH SCRAM-SHA-256", "AUTH SCRAM-SHA-256"},
        {"AUTH", "ERR 501 5.5.4"},
        {"AUTH PL@IN", "ERR 501 5.5.4"},
        {"AUTH PLAIN a b", "ERR 501 5.5.4"},
        {"AUTH ABCDEFGHIJKLMNOPQRSTU", "ERR 501 5.5.4"},  // 21 chars
    });
}

TEST_CASE("command parser: the verb is known even when arguments are bad", "[command]") {
    const auto p = parse_command("RCPT TO:<>");
    CHECK(p.command.verb == Verb::rcpt);
    CHECK(p.error == ParseError::null_recipient);
    CHECK_FALSE(p.detail.empty());
}

TEST_CASE("parse_mailbox and address()", "[path]") {
    auto p = parse_mailbox("Alice@Example.ORG");
    REQUIRE(p);
    CHECK(p->local_part == "Alice");
    CHECK(p->domain == "Example.ORG");
    CHECK(p->address() == "Alice@Example.ORG");
    CHECK_FALSE(parse_mailbox("a b@example.org"));
    CHECK_FALSE(parse_mailbox("<a@example.org>"));
    auto q = parse_mailbox("\"a b\"@example.org");
    REQUIRE(q);
    CHECK(q->address() == "\"a b\"@example.org");
    auto r = parse_mailbox("\"ab\"@example.org");
    REQUIRE(r);
    CHECK(r->address() == "\"ab\"@example.org");  // quoted stays quoted
}
