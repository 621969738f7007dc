// Tables for relay/client/smtp_text: dot-stuffing, command lines, SASL.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "relay/client/smtp_text.hpp"

using namespace mxgate::client;

TEST_CASE("dot-stuffing", "[client][data]") {
    struct Row {
        const char* prepend;
        const char* body;
        const char* wire;
    };
    const std::vector<Row> table = {
        {"", "", ".\r\n"},
        {"", "a\r\n", "a\r\n.\r\n"},
        {"", "a", "a\r\n.\r\n"},
        {"", ".\r\n", "..\r\n.\r\n"},
        {"", "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"},
        {"", "..x\r\n", "...x\r\n.\r\n"},
        {"", "a.b\r\n", "a.b\r\n.\r\n"},
        {"X: 1\r\n", ".hidden\r\n", "X: 1\r\n..hidden\r\n.\r\n"},
        // A bare LF still starts a line for stuffing (defence in depth).
        {"", "a\n.\r\n", "a\n..\r\n.\r\n"},
        {"", "a\n", "a\n\r\n.\r\n"},
        {"", "a\r", "a\r\n.\r\n"},
    };
    for (const auto& t : table) {
        INFO(t.body);
        CHECK(dot_stuff(t.prepend, t.body) == t.wire);
    }
}

TEST_CASE("dot-stuffing across chunk boundaries", "[client][data]") {
    const std::string body = "line\r\n.one\r\n..two\r\n.\r\nend\r\n";
    const std::string whole = dot_stuff({}, body);
    for (size_t step = 1; step < body.size(); ++step) {
        DotStuffer s;
        std::string out;
        for (size_t i = 0; i < body.size(); i += step) s.feed(std::string_view(body).substr(i, step), out);
        s.finish(out);
        CHECK(out == whole);
    }
}

TEST_CASE("command lines refuse injected text", "[client][commands]") {
    CHECK(*mail_from_command("a@b.example", {}) == "MAIL FROM:<a@b.example>\r\n");
    CHECK(*mail_from_command("", {"SIZE=10"}) == "MAIL FROM:<> SIZE=10\r\n");
    CHECK(*mail_from_command("a@b", {"SIZE=10", "BODY=8BITMIME", "SMTPUTF8"}) ==
          "MAIL FROM:<a@b> SIZE=10 BODY=8BITMIME SMTPUTF8\r\n");
    CHECK(*rcpt_to_command("x@y", {}) == "RCPT TO:<x@y>\r\n");
    CHECK_FALSE(rcpt_to_command("", {}));
    CHECK_FALSE(mail_from_command("a@b>\r\nRCPT TO:<evil@x", {}));
    CHECK_FALSE(rcpt_to_command("a\n@b", {}));
    CHECK_FALSE(rcpt_to_command("a@b", {"X=1\r\nQUIT"}));
    CHECK_FALSE(rcpt_to_command("a@b", {"TWO WORDS"}));
    CHECK_FALSE(rcpt_to_command(std::string(999, 'a'), {}));
}

TEST_CASE("SASL PLAIN and base64", "[client][auth]") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    // RFC 4616 §4 example credentials: "\0tim\0tanstaaftanstaaf"
    CHECK(sasl_plain("tim", "tanstaaftanstaaf") == "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
}

TEST_CASE("password file: first line only", "[client][auth]") {
    const std::string path = "/tmp/mxgate-client-test-pass";
    {
        std::ofstream f(path, std::ios::binary);
        f << "s3cret\r\nsecond line\n";
    }
    std::string err;
    auto pw = read_password_file(path, err);
    REQUIRE(pw);
    CHECK(*pw == "s3cret");
    {
        std::ofstream f(path, std::ios::binary);
        f << "\n";
    }
    CHECK_FALSE(read_password_file(path, err));
    std::remove(path.c_str());
    CHECK_FALSE(read_password_file(path, err));
    CHECK(err.find("cannot read") != std::string::npos);
}
