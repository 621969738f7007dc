// Tests for relay/smtp/replies: codes and wire forms the session relies on.
#include <catch2/catch.hpp>

#include <string>

#include "relay/smtp/smtp.hpp"

using namespace mxgate::smtp;

TEST_CASE("replies: greeting and EHLO carry no enhanced code", "[replies]") {
    CHECK(replies::greeting("mx.example.org").format() == "220 mx.example.org ESMTP mxgate\r\n");
    CHECK(replies::helo("mx.example.org").format() == "250 mx.example.org\r\n");

    replies::EhloCaps caps;
    caps.size = 52428800;
    caps.starttls = true;
    CHECK(replies::ehlo("mx.example.org", caps).format() ==
          "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-STARTTLS\r\n"
          "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250 CHUNKING\r\n");

    replies::EhloCaps after_tls;
    after_tls.auth = {"PLAIN", "LOGIN"};
    after_tls.chunking = false;
    after_tls.smtputf8 = false;
    after_tls.dsn = false;
    const std::string e = replies::ehlo("h", after_tls).format();
    CHECK(e.find("250-AUTH PLAIN LOGIN\r\n") != std::string::npos);
    CHECK(e.find("STARTTLS") == std::string::npos);
    CHECK(e.find("CHUNKING") == std::string::npos);
    CHECK(e.find("SIZE") == std::string::npos);
    REQUIRE(e.size() >= 14);
    CHECK(e.substr(e.size() - 14) == "250 8BITMIME\r\n");
}

TEST_CASE("replies: codes named by SPEC §4 and §5", "[replies]") {
    struct Row {
        mxgate::core::Reply reply;
        int code;
        const char* esc;
    };
    const Row rows[] = {
        {replies::ok(), 250, "2.0.0"},
        {replies::queued("ABC123"), 250, "2.0.0"},
        {replies::start_data(), 354, "2.0.0"},
        {replies::bye(), 221, "2.0.0"},
        {replies::relay_denied(), 554, "5.7.1"},
        {replies::user_unknown(), 550, "5.1.1"},
        {replies::too_many_recipients(), 452, "4.5.3"},
        {replies::too_many_connections(), 421, "4.7.0"},
        {replies::timeout(), 421, "4.4.2"},
        {replies::message_too_big(), 552, "5.3.4"},
        {replies::mail_loop(), 554, "5.4.6"},
        {replies::auth_not_available(), 503, "5.5.1"},
        {replies::starttls_first(), 530, "5.7.0"},
        {replies::auth_required(), 530, "5.7.0"},
        {replies::encryption_required(), 538, "5.7.11"},
        {replies::auth_invalid(), 535, "5.7.8"},
        {replies::auth_temporary_failure(), 454, "4.7.0"},
        {replies::greylisted(), 451, "4.7.1"},
        {replies::dnsbl_listed("zen.example"), 554, "5.7.1"},
        {replies::sender_not_owned(), 553, "5.7.1"},
        {replies::not_implemented(Verb::vrfy), 502, "5.5.1"},
        {replies::need_mail(), 503, "5.5.1"},
    };
    for (const auto& row : rows) {
        INFO(row.reply.format());
        CHECK(row.reply.code == row.code);
        CHECK(row.reply.enhanced == row.esc);
    }
    CHECK(replies::queued("ABC123").format() == "250 2.0.0 Ok: queued as ABC123\r\n");
    CHECK(replies::starttls_first().format() == "530 5.7.0 Must issue a STARTTLS command first\r\n");
    CHECK(replies::auth_required().format() == "530 5.7.0 Authentication required\r\n");
    CHECK(replies::encryption_required().format() == "538 5.7.11 Encryption required\r\n");
    CHECK(replies::dnsbl_listed("zen.example").lines.at(0).find("zen.example") != std::string::npos);
}

TEST_CASE("replies: peer-influenced text cannot split a reply", "[replies]") {
    const auto r = replies::queued("ID\r\n250 fake");
    CHECK(r.format().find("\r\n250 fake") == std::string::npos);
    CHECK(r.format().size() == r.format().find("\r\n") + 2);
}

TEST_CASE("replies: data verdict order and acceptance", "[replies]") {
    DataReport ok;
    CHECK_FALSE(replies::data_verdict(ok));
    DataReport both;
    both.too_big = true;
    both.bare_lf = true;
    CHECK(replies::data_verdict(both)->code == 552);
    DataReport nul;
    nul.nul = true;
    CHECK(replies::data_verdict(nul)->enhanced == "5.6.0");
}
