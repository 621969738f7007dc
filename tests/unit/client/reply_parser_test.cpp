// Tables for relay/client/reply_parser and ehlo_capabilities.
#include <catch2/catch.hpp>

#include "relay/client/ehlo_capabilities.hpp"
#include "relay/client/reply_parser.hpp"

using namespace mxgate::client;
using mxgate::core::Reply;

namespace {

struct Good {
    const char* wire;
    int code;
    const char* enhanced;
    std::vector<std::string> lines;
};

struct Bad {
    const char* wire;
    const char* error;
};

}  // namespace

TEST_CASE("reply parser accepts valid replies", "[client][reply]") {
    const std::vector<Good> table = {
        {"220 mx.example.org ESMTP\r\n", 220, "", {"mx.example.org ESMTP"}},
        {"250 2.1.0 Ok\r\n", 250, "2.1.0", {"Ok"}},
        {"250-first\r\n250-second\r\n250 last\r\n", 250, "", {"first", "second", "last"}},
        {"550-5.1.1 no such\r\n550 5.1.1 user\r\n", 550, "5.1.1", {"no such", "user"}},
        // Enhanced code on line 1 only: later lines keep their text.
        {"451-4.3.0 a\r\n451 b\r\n", 451, "4.3.0", {"a", "b"}},
        // Class must equal the reply's first digit (RFC 3463 §2).
        {"454 5.0.0 wrong class\r\n", 454, "", {"5.0.0 wrong class"}},
        {"250 2.0.0\r\n", 250, "2.0.0", {""}},
        {"250 2.1000.0 too long\r\n", 250, "", {"2.1000.0 too long"}},
        {"550 5.7.1x text\r\n", 550, "", {"5.7.1x text"}},
        // RFC 5321 §4.2: text is optional.
        {"250\r\n", 250, "", {""}},
        {"250-\r\n250 \r\n", 250, "", {"", ""}},
        // Bare LF tolerated as Postfix's client does (documented choice).
        {"250-a\n250 b\n", 250, "", {"a", "b"}},
        // Control and 8-bit bytes are sanitised.
        {"250 a\tb\x01\xff\r\n", 250, "", {"a?b??"}},
        {"250 a\rb\r\n", 250, "", {"a?b"}},
    };
    for (const auto& t : table) {
        INFO(t.wire);
        Reply r;
        std::string err;
        REQUIRE(parse_reply(t.wire, r, err));
        CHECK(r.code == t.code);
        CHECK(r.enhanced == t.enhanced);
        CHECK(r.lines == t.lines);
    }
}

TEST_CASE("reply parser rejects protocol errors", "[client][reply]") {
    const std::vector<Bad> table = {
        {"25 short\r\n", "reply line does not start with a three-digit code"},
        {"abc text\r\n", "reply line does not start with a three-digit code"},
        {"\r\n", "reply line does not start with a three-digit code"},
        {"150 preliminary\r\n", "reply code outside 2xx..5xx"},
        {"650 x\r\n", "reply code outside 2xx..5xx"},
        {"250_x\r\n", "reply code not followed by SP or '-'"},
        {"2500 x\r\n", "reply code not followed by SP or '-'"},
        {"250-a\r\n251 b\r\n", "inconsistent codes within one multiline reply"},
        {"250-a\r\n", "incomplete reply"},
        {"250 a", "incomplete reply"},
        {"250 a\r\n250 b\r\n", "bytes after the reply"},
    };
    for (const auto& t : table) {
        INFO(t.wire);
        Reply r;
        std::string err;
        REQUIRE_FALSE(parse_reply(t.wire, r, err));
        CHECK(err == t.error);
    }
}

TEST_CASE("reply parser enforces line and line-count limits", "[client][reply]") {
    ReplyLimits lim{16, 3};
    Reply r;
    std::string err;
    CHECK(parse_reply("250 " + std::string(12, 'x') + "\r\n", r, err, lim));
    CHECK_FALSE(parse_reply("250 " + std::string(13, 'x') + "\r\n", r, err, lim));
    CHECK(err == "reply line too long");
    CHECK(parse_reply("250-a\r\n250-b\r\n250 c\r\n", r, err, lim));
    CHECK_FALSE(parse_reply("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", r, err, lim));
    CHECK(err == "reply has too many lines");

    // An overlong line is refused before its terminator arrives, so a
    // server cannot make us buffer without bound.
    ReplyParser p(lim);
    size_t used = 0;
    CHECK(p.feed("250 " + std::string(13, 'x'), used) == ReplyStatus::need_more);
    CHECK(p.feed("250 " + std::string(14, 'x'), used) == ReplyStatus::error);
}

TEST_CASE("reply parser is incremental and leaves pipelined replies", "[client][reply]") {
    const std::string wire = "250-mx\r\n250 PIPELINING\r\n354 go\r\n";
    ReplyParser p;
    std::string buf;
    std::vector<Reply> got;
    for (char c : wire) {
        buf.push_back(c);
        size_t used = 0;
        const auto st = p.feed(buf, used);
        buf.erase(0, used);
        REQUIRE(st != ReplyStatus::error);
        if (st == ReplyStatus::complete) got.push_back(p.take());
    }
    REQUIRE(got.size() == 2);
    CHECK(got[0].lines == std::vector<std::string>{"mx", "PIPELINING"});
    CHECK(got[1].code == 354);
    CHECK(buf.empty());

    // Two replies in one buffer: the second stays unconsumed.
    ReplyParser q;
    size_t used = 0;
    const std::string two = "250 a\r\n550 5.1.1 b\r\n";
    REQUIRE(q.feed(two, used) == ReplyStatus::complete);
    CHECK(used == 7);
    CHECK(q.take().code == 250);
    REQUIRE(q.feed(std::string_view(two).substr(used), used) == ReplyStatus::complete);
    const Reply second = q.take();
    CHECK(second.code == 550);
    CHECK(second.format() == "550 5.1.1 b\r\n");
}

TEST_CASE("EHLO capabilities", "[client][ehlo]") {
    Reply r;
    std::string err;
    REQUIRE(parse_reply("250-home.example.org hi\r\n"
                        "250-pipelining\r\n"
                        "250-SIZE 10240000\r\n"
                        "250-STARTTLS\r\n"
                        "250-AUTH PLAIN login XOAUTH2 bad!mech TOOLONGMECHANISMNAME12\r\n"
                        "250-AUTH=CRAM-MD5\r\n"
                        "250-ENHANCEDSTATUSCODES\r\n"
                        "250-8BITMIME\r\n"
                        "250-DSN\r\n"
                        "250-SMTPUTF8\r\n"
                        "250-X-UNKNOWN foo\r\n"
                        "250 CHUNKING\r\n",
                        r, err));
    const auto c = parse_ehlo(r);
    CHECK(c.pipelining);
    CHECK(c.size);
    CHECK(c.size_limit == 10240000);
    CHECK(c.starttls);
    CHECK(c.auth == std::vector<std::string>{"PLAIN", "LOGIN", "XOAUTH2", "CRAM-MD5"});
    CHECK(c.has_auth("LOGIN"));
    CHECK_FALSE(c.has_auth("GSSAPI"));
    CHECK(c.enhancedstatuscodes);
    CHECK(c.eightbitmime);
    CHECK(c.dsn);
    CHECK(c.smtputf8);
    CHECK(c.chunking);
}

TEST_CASE("EHLO capabilities: REQUIRETLS (RFC 8689)", "[client][ehlo][requiretls]") {
    Reply r;
    std::string err;
    REQUIRE(parse_reply("250-mx.example\r\n250-PIPELINING\r\n250 requiretls\r\n", r, err));
    CHECK(parse_ehlo(r).requiretls);
    REQUIRE(parse_reply("250-mx.example\r\n250 STARTTLS\r\n", r, err));
    CHECK_FALSE(parse_ehlo(r).requiretls);
    REQUIRE(parse_reply("250 REQUIRETLS\r\n", r, err));  // the greeting line is the server's name
    CHECK_FALSE(parse_ehlo(r).requiretls);
}

TEST_CASE("EHLO capabilities: greeting line is not a keyword; odd SIZE", "[client][ehlo]") {
    Reply r;
    std::string err;
    REQUIRE(parse_reply("250 STARTTLS\r\n", r, err));
    CHECK_FALSE(parse_ehlo(r).starttls);   // line 1 is the server's name

    REQUIRE(parse_reply("250-x\r\n250-SIZE\r\n250 SIZE nonsense\r\n", r, err));
    auto c = parse_ehlo(r);
    CHECK(c.size);
    CHECK(c.size_limit == 0);
    REQUIRE(parse_reply("250-x\r\n250 SIZE 99999999999999999999999\r\n", r, err));
    c = parse_ehlo(r);
    CHECK(c.size);
    CHECK(c.size_limit == 0);
    REQUIRE(parse_reply("250-x\r\n250 STARTTLSX\r\n", r, err));
    CHECK_FALSE(parse_ehlo(r).starttls);
}
