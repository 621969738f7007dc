// Client sessions against the scripted TLS test server: TLS modes
// (none, opportunistic + fallback, encrypt, verify, pin), AUTH, exact wire
// bytes, per-recipient replies (SMTP and LMTP), SMTPUTF8, reuse.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <fstream>
#include <optional>

#include "harness.hpp"
#include "relay/core/resolver.hpp"
#include "test_server.hpp"

using namespace mxgate;
using namespace mxgate::clienttest;
using client::RcptResult;
using conf::DownstreamTls;

namespace {

struct Setup {
    DownstreamTls mode = DownstreamTls::opportunistic;
    std::vector<std::string> pins;
    std::optional<conf::DownstreamAuth> auth;
    conf::Fallback fallback = conf::Fallback::plaintext_logged;
    std::string ca = pki().ca_cert;
    bool lmtp = false;
};

struct Result {
    std::vector<client::DeliveryOutcome> outs;
    testsrv::ServerLog log;
};

// Delivers `bodies` (one envelope each, recipients `rcpts`) to a test
// server running `script`, via the name home.test -> 127.0.0.1.
Result deliver(testsrv::ServerScript script, const Setup& su, const std::vector<std::string>& rcpts,
               const std::vector<std::string>& bodies, bool smtputf8 = false) {
    boost::asio::io_context ioc;
    script.lmtp = su.lmtp;
    testsrv::TestServer server(ioc, script);
    auto res = std::make_shared<core::StaticResolver>();
    res->add_record("home.test", core::rrtype::A, std::string("\x7f\x00\x00\x01", 4));
    core::DnsReply nodata;
    nodata.status = core::DnsStatus::nodata;
    res->add("home.test", core::rrtype::AAAA, nodata);
    conf::Downstream ds;
    ds.address = conf::HostPort{"home.test", server.port()};
    ds.lmtp = su.lmtp;
    ds.tls = su.mode;
    ds.pin = su.pins;
    ds.auth = su.auth;
    client::ClientSettings st;
    st.hostname = "mx.example.org";
    st.fallback = su.fallback;
    st.timeouts.command = std::chrono::seconds(10);
    st.timeouts.tls_handshake = std::chrono::seconds(10);
    client::DownstreamCourier courier(ioc.get_executor(), res, ds, client_ctx(su.ca), st);
    std::vector<spool::Envelope> envs;
    for (const auto& b : bodies) {
        envs.push_back(make_envelope(rcpts, "", b));
        envs.back().smtputf8 = smtputf8;
    }
    Result r;
    r.outs = run_deliveries(ioc, courier, envs, bodies);
    server.stop();
    r.log = server.log();
    return r;
}

testsrv::ServerScript tls_script(const std::string& cert, const std::string& key) {
    testsrv::ServerScript s;
    s.tls_ctx = server_ctx(cert, key);
    return s;
}

bool sent(const testsrv::ServerLog& log, const std::string& verb) {
    for (const auto& c : log.commands)
        if (c.rfind(verb, 0) == 0) return true;
    return false;
}

void all_are(const client::DeliveryOutcome& o, RcptResult want) {
    for (const auto& r : o.rcpts) {
        INFO(r.reply);
        CHECK(r.result == want);
    }
}

const std::string kBody = "Subject: t\r\n\r\nhello\r\n";

}  // namespace

TEST_CASE("wire bytes: dot-stuffing and prepend, exactly", "[client][data]") {
    testsrv::ServerScript script;
    script.offer_starttls = false;
    Setup su;
    su.mode = DownstreamTls::none;
    const std::string body = ".a\r\nb\r\n..c\r\n.\r\nd";
    auto r = deliver(script, su, {"x@example.org"}, {body});
    all_are(r.outs[0], RcptResult::delivered);
    REQUIRE(r.log.transactions.size() == 1);
    CHECK(r.log.transactions[0].data == "..a\r\nb\r\n...c\r\n..\r\nd\r\n.\r\n");
    CHECK(r.log.transactions[0].mail == "MAIL FROM:<sender@origin.example> SIZE=" + std::to_string(body.size()));
}

TEST_CASE("tls: none never sends STARTTLS even when offered", "[client][tls]") {
    auto script = tls_script(pki().home_cert, pki().home_key);
    Setup su;
    su.mode = DownstreamTls::none;
    auto r = deliver(script, su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::delivered);
    CHECK_FALSE(sent(r.log, "STARTTLS"));
    CHECK_FALSE(r.outs[0].tls.attempted);
    CHECK_FALSE(r.log.transactions.at(0).tls);
}

TEST_CASE("tls: opportunistic uses TLS when offered", "[client][tls]") {
    auto script = tls_script(pki().self_cert, pki().self_key);
    Setup su;
    auto r = deliver(script, su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::delivered);
    CHECK(r.outs[0].tls.established);
    CHECK(r.outs[0].tls.new_connection);
    CHECK_FALSE(r.outs[0].tls.info.version.empty());
    CHECK_FALSE(r.outs[0].tls.info.chain_verified);   // self-signed: no checks under opportunistic
    CHECK(r.log.transactions.at(0).tls);
    // EHLO again after TLS (RFC 3207 §4.2).
    int ehlos = 0;
    for (const auto& c : r.log.commands) ehlos += c.rfind("EHLO", 0) == 0;
    CHECK(ehlos == 2);
}

TEST_CASE("tls: opportunistic handshake failure falls back to plaintext, logged", "[client][tls]") {
    auto script = tls_script(pki().self_cert, pki().self_key);
    script.starttls_garbage = true;
    Setup su;
    auto r = deliver(script, su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::delivered);
    CHECK(r.outs[0].tls.plaintext_fallback);
    CHECK(r.outs[0].tls.error.find("TLS handshake") != std::string::npos);
    CHECK_FALSE(r.outs[0].tls.established);
    CHECK(r.log.connections == 2);
    CHECK_FALSE(r.log.transactions.at(0).tls);

    su.fallback = conf::Fallback::defer;
    r = deliver(script, su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::transient);
    CHECK(r.log.connections == 1);
    CHECK(r.log.transactions.empty());
}

TEST_CASE("tls: opportunistic STARTTLS refusal continues in plaintext, logged", "[client][tls]") {
    testsrv::ServerScript script;   // offers STARTTLS but answers 454
    Setup su;
    auto r = deliver(script, su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::delivered);
    CHECK(r.outs[0].tls.plaintext_fallback);
    CHECK(r.outs[0].tls.error.find("454") != std::string::npos);
}

TEST_CASE("tls: encrypt requires STARTTLS and never falls back", "[client][tls]") {
    Setup su;
    su.mode = DownstreamTls::encrypt;
    {
        testsrv::ServerScript script;
        script.offer_starttls = false;
        auto r = deliver(script, su, {"x@example.org"}, {kBody});
        all_are(r.outs[0], RcptResult::transient);
        CHECK(r.outs[0].error.find("does not offer STARTTLS") != std::string::npos);
        CHECK(r.log.transactions.empty());
    }
    {
        auto script = tls_script(pki().self_cert, pki().self_key);
        script.starttls_garbage = true;
        auto r = deliver(script, su, {"x@example.org"}, {kBody});
        all_are(r.outs[0], RcptResult::transient);
        CHECK(r.log.connections == 1);
        CHECK(r.log.transactions.empty());
        CHECK_FALSE(r.outs[0].tls.plaintext_fallback);
    }
    {
        testsrv::ServerScript script;   // 454 to STARTTLS
        auto r = deliver(script, su, {"x@example.org"}, {kBody});
        all_are(r.outs[0], RcptResult::transient);
        CHECK(r.log.transactions.empty());
    }
    {
        auto script = tls_script(pki().self_cert, pki().self_key);   // no verification
        auto r = deliver(script, su, {"x@example.org"}, {kBody});
        all_are(r.outs[0], RcptResult::delivered);
        CHECK(r.log.transactions.at(0).tls);
    }
}

TEST_CASE("tls: verify checks chain and name", "[client][tls]") {
    Setup su;
    su.mode = DownstreamTls::verify;
    {
        auto r = deliver(tls_script(pki().home_cert, pki().home_key), su, {"x@example.org"}, {kBody});
        all_are(r.outs[0], RcptResult::delivered);
        CHECK(r.outs[0].tls.info.chain_verified);
        CHECK(r.log.transactions.at(0).tls);
    }
    {
        auto r = deliver(tls_script(pki().self_cert, pki().self_key), su, {"x@example.org"}, {kBody});
        all_are(r.outs[0], RcptResult::transient);
        CHECK(r.outs[0].tls.error.find("chain not verified") != std::string::npos);
        CHECK(r.log.transactions.empty());
        CHECK(r.log.connections == 1);
    }
    {
        auto r = deliver(tls_script(pki().other_cert, pki().other_key), su, {"x@example.org"}, {kBody});
        all_are(r.outs[0], RcptResult::transient);
        CHECK(r.outs[0].tls.error.find("does not name home.test") != std::string::npos);
        CHECK(r.log.transactions.empty());
    }
}

TEST_CASE("tls: pin accepts only a configured key, chain not required", "[client][tls]") {
    Setup su;
    su.mode = DownstreamTls::pin;
    su.pins = {"sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", pin_of(pki().self_cert)};
    auto r = deliver(tls_script(pki().self_cert, pki().self_key), su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::delivered);
    CHECK(r.outs[0].tls.info.peer_pin == pin_of(pki().self_cert));

    su.pins = {pin_of(pki().home_cert)};   // a different key
    r = deliver(tls_script(pki().self_cert, pki().self_key), su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::transient);
    CHECK(r.outs[0].tls.error.find("matches no configured pin") != std::string::npos);
    CHECK(r.log.transactions.empty());
    CHECK(r.log.connections == 1);   // never retried in plaintext
}

TEST_CASE("AUTH over TLS: PLAIN, LOGIN, missing AUTH, bad password", "[client][auth]") {
    const std::string pwfile = "/tmp/mxgate-client-test-pw";
    std::ofstream(pwfile) << "hunter2\nignored\n";
    Setup su;
    su.mode = DownstreamTls::encrypt;
    su.auth = conf::DownstreamAuth{"relay", pwfile};
    auto script = tls_script(pki().self_cert, pki().self_key);
    script.auth_user = "relay";
    script.auth_password = "hunter2";

    script.auth_mechs = {"LOGIN", "PLAIN"};
    auto r = deliver(script, su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::delivered);
    CHECK(r.log.auth_ok);
    CHECK_FALSE(r.log.auth_plaintext_seen);

    script.auth_mechs = {"LOGIN"};
    r = deliver(script, su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::delivered);
    CHECK(r.log.auth_ok);

    script.auth_mechs = {};
    r = deliver(script, su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::transient);
    CHECK(r.outs[0].error.find("does not offer AUTH") != std::string::npos);

    script.auth_mechs = {"PLAIN"};
    script.auth_password = "other";
    r = deliver(script, su, {"x@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::transient);
    CHECK(r.outs[0].error.find("535") != std::string::npos);
    CHECK(r.outs[0].error.find("hunter2") == std::string::npos);
    CHECK(r.log.transactions.empty());
    std::remove(pwfile.c_str());
}

TEST_CASE("SMTP: per-recipient RCPT replies, with and without pipelining", "[client][smtp]") {
    for (bool pipelining : {true, false}) {
        INFO("pipelining " << pipelining);
        testsrv::ServerScript script;
        script.offer_starttls = false;
        script.pipelining = pipelining;
        script.rcpt_replies = {{"perm@example.org", "550 5.1.1 no such user"},
                               {"temp@example.org", "451 4.3.0 try later"}};
        Setup su;
        su.mode = DownstreamTls::none;
        auto r = deliver(script, su, {"perm@example.org", "temp@example.org", "ok@example.org"}, {kBody});
        const auto& o = r.outs[0];
        REQUIRE(o.rcpts.size() == 3);
        CHECK(o.rcpts[0].result == RcptResult::permanent);
        CHECK(o.rcpts[0].reply == "550 5.1.1 no such user");
        CHECK(o.rcpts[1].result == RcptResult::transient);
        CHECK(o.rcpts[1].reply == "451 4.3.0 try later");
        CHECK(o.rcpts[2].result == RcptResult::delivered);
        CHECK(o.rcpts[2].reply == "250 2.0.0 Ok: queued");
    }
}

TEST_CASE("SMTP: no recipient accepted means no message; final 5xx applies to all", "[client][smtp]") {
    testsrv::ServerScript script;
    script.offer_starttls = false;
    script.rcpt_replies = {{"a@example.org", "550 5.1.1 no"}};
    Setup su;
    su.mode = DownstreamTls::none;
    // With PIPELINING, DATA ends the MAIL/RCPT group (RFC 2920 §3.1) and
    // the server refuses it: no message is transferred.
    auto r = deliver(script, su, {"a@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::permanent);
    CHECK(r.outs[0].rcpts[0].reply == "550 5.1.1 no");
    CHECK(sent(r.log, "DATA"));
    CHECK(r.log.transactions.empty());
    // Without PIPELINING, DATA is not even sent.
    script.pipelining = false;
    r = deliver(script, su, {"a@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::permanent);
    CHECK_FALSE(sent(r.log, "DATA"));
    CHECK(r.log.transactions.empty());
    script.pipelining = true;

    script.rcpt_replies = {};
    script.data_reply = "554 5.7.1 content rejected";
    r = deliver(script, su, {"a@example.org", "b@example.org"}, {kBody});
    all_are(r.outs[0], RcptResult::permanent);
    CHECK(r.outs[0].rcpts[1].reply == "554 5.7.1 content rejected");
}

TEST_CASE("LMTP: one final reply per accepted recipient", "[client][lmtp]") {
    testsrv::ServerScript script;
    script.offer_starttls = false;
    script.rcpt_replies = {{"gone@example.org", "550 5.1.1 unknown"}};
    script.lmtp_replies = {{"full@example.org", "452 4.2.2 mailbox full"},
                           {"bad@example.org", "554 5.6.0 bad content"}};
    Setup su;
    su.mode = DownstreamTls::none;
    su.lmtp = true;
    auto r = deliver(script, su,
                     {"ok@example.org", "gone@example.org", "full@example.org", "bad@example.org"}, {kBody});
    const auto& o = r.outs[0];
    REQUIRE(o.rcpts.size() == 4);
    CHECK(o.rcpts[0].result == RcptResult::delivered);
    CHECK(o.rcpts[1].result == RcptResult::permanent);
    CHECK(o.rcpts[2].result == RcptResult::transient);
    CHECK(o.rcpts[2].reply == "452 4.2.2 mailbox full");
    CHECK(o.rcpts[3].result == RcptResult::permanent);
    CHECK(sent(r.log, "LHLO"));
}

TEST_CASE("SMTPUTF8 needed but not offered is permanent", "[client][smtp]") {
    testsrv::ServerScript script;
    script.offer_starttls = false;
    script.smtputf8 = false;
    Setup su;
    su.mode = DownstreamTls::none;
    auto r = deliver(script, su, {"a@example.org"}, {kBody}, true);
    all_are(r.outs[0], RcptResult::permanent);
    CHECK(r.outs[0].rcpts[0].reply.find("5.6.7") != std::string::npos);
    CHECK_FALSE(sent(r.log, "MAIL"));

    script.smtputf8 = true;
    r = deliver(script, su, {"a@example.org"}, {kBody}, true);
    all_are(r.outs[0], RcptResult::delivered);
    CHECK(r.log.transactions.at(0).mail.find(" SMTPUTF8") != std::string::npos);
}

TEST_CASE("reuse: two messages on one TLS connection; a dropped one is replaced", "[client][reuse]") {
    Setup su;
    su.mode = DownstreamTls::encrypt;
    auto script = tls_script(pki().self_cert, pki().self_key);
    auto r = deliver(script, su, {"a@example.org"}, {kBody, kBody});
    all_are(r.outs[0], RcptResult::delivered);
    all_are(r.outs[1], RcptResult::delivered);
    CHECK(r.log.connections == 1);
    CHECK(r.log.rsets == 1);
    CHECK(r.log.transactions.size() == 2);
    CHECK(r.outs[1].tls.established);
    CHECK_FALSE(r.outs[1].tls.new_connection);
    CHECK(sent(r.log, "QUIT"));

    script.close_after_message = true;   // server hangs up after each message
    r = deliver(script, su, {"a@example.org"}, {kBody, kBody});
    all_are(r.outs[0], RcptResult::delivered);
    all_are(r.outs[1], RcptResult::delivered);
    CHECK(r.log.connections == 2);
    CHECK(r.outs[1].tls.new_connection);
}
