// Client sessions against Postfix's smtp-sink (a real, independent SMTP and
// LMTP server): delivery bytes, dot-stuffing, LMTP, server-wide 4xx/5xx,
// connection reuse, server down, DNS per attempt.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include "harness.hpp"
#include "relay/core/resolver.hpp"

using namespace mxgate;
using namespace mxgate::clienttest;
using client::RcptResult;

namespace {

client::DownstreamCourier make_courier(boost::asio::io_context& ioc, std::shared_ptr<core::Resolver> res,
                                       std::string host, uint16_t port, bool lmtp = false) {
    conf::Downstream ds;
    ds.address = conf::HostPort{std::move(host), port};
    ds.lmtp = lmtp;
    ds.tls = conf::DownstreamTls::none;
    client::ClientSettings st;
    st.hostname = "mx.example.org";
    st.timeouts.connect = std::chrono::seconds(5);
    st.timeouts.command = std::chrono::seconds(10);
    return client::DownstreamCourier(ioc.get_executor(), std::move(res), ds, nullptr, st);
}

std::string crlf_to_lf(std::string s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i)
        if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out.push_back(s[i]);
    return out;
}

// smtp-sink's dump: its own X- headers, its Received: (3 lines), then the
// message as received (unstuffed, LF line ends), then an empty line.
bool dump_has_message(const std::string& dump, const std::string& message) {
    const std::string want = crlf_to_lf(message) + "\n";
    return dump.size() >= want.size() && dump.compare(dump.size() - want.size(), want.size(), want) == 0;
}

}  // namespace

TEST_CASE("smtp-sink: delivery is byte-identical, dots stuffed, one connection for two messages",
          "[client][sink]") {
    SmtpSink sink({});
    if (!sink.running()) {
        WARN("smtp-sink not installed: skipped");
        return;
    }
    boost::asio::io_context ioc;
    auto res = std::make_shared<core::StaticResolver>();
    auto courier = make_courier(ioc, res, "127.0.0.1", sink.port());
    const std::string body1 =
        "Subject: dots\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nmiddle . dot\r\nlast line\r\n";
    const std::string body2 = "Subject: second\r\n\r\nno final newline";
    auto e1 = make_envelope({"a@example.org", "b@example.org"}, "Received: by mxgate\r\n", body1);
    auto e2 = make_envelope({"c@example.org"}, "", body2);
    bool kept = false;
    const auto outs = run_deliveries(ioc, courier, {e1, e2}, {body1, body2}, &kept);
    REQUIRE(outs.size() == 2);
    CHECK(kept);
    for (const auto& o : outs) {
        CHECK(o.connected);
        CHECK_FALSE(o.tls.attempted);
        for (const auto& r : o.rcpts) {
            INFO(r.reply);
            CHECK(r.result == RcptResult::delivered);
        }
    }
    CHECK(outs[0].tls.new_connection);
    CHECK_FALSE(outs[1].tls.new_connection);   // the same connection, after RSET
    const auto dumps = sink.dumps();
    REQUIRE(dumps.size() == 2);
    const bool first_is_1 = dump_has_message(dumps[0], e1.prepend + body1);
    CHECK(dump_has_message(dumps[first_is_1 ? 0 : 1], e1.prepend + body1));
    CHECK(dump_has_message(dumps[first_is_1 ? 1 : 0], body2 + "\r\n"));
    CHECK(dumps[first_is_1 ? 0 : 1].find("X-Rcpt-Args: <b@example.org>") != std::string::npos);
}

TEST_CASE("smtp-sink LMTP: one reply per recipient", "[client][sink][lmtp]") {
    SmtpSink sink({"-L"});
    if (!sink.running()) {
        WARN("smtp-sink not installed: skipped");
        return;
    }
    boost::asio::io_context ioc;
    auto res = std::make_shared<core::StaticResolver>();
    auto courier = make_courier(ioc, res, "127.0.0.1", sink.port(), true);
    const std::string body = "Subject: lmtp\r\n\r\nhello\r\n";
    auto env = make_envelope({"a@example.org", "b@example.org", "c@example.org"}, "", body);
    const auto outs = run_deliveries(ioc, courier, {env}, {body});
    REQUIRE(outs[0].rcpts.size() == 3);
    for (const auto& r : outs[0].rcpts) {
        INFO(r.reply);
        CHECK(r.result == RcptResult::delivered);
        CHECK(r.reply.rfind("250", 0) == 0);
    }
    REQUIRE(sink.dumps().size() == 1);
    CHECK(dump_has_message(sink.dumps()[0], body));
}

TEST_CASE("smtp-sink: 4xx and 5xx from a real server", "[client][sink]") {
    const std::string body = "Subject: x\r\n\r\nx\r\n";
    struct Row {
        std::vector<std::string> args;
        RcptResult want;
        const char* code;
    };
    const std::vector<Row> table = {
        {{"-f", "RCPT"}, RcptResult::permanent, "500"},
        {{"-r", "RCPT"}, RcptResult::transient, "450"},
        {{"-f", "MAIL"}, RcptResult::permanent, "500"},
        {{"-r", "DATA"}, RcptResult::transient, "450"},
        {{"-f", "."}, RcptResult::permanent, "500"},
        {{"-r", "."}, RcptResult::transient, "450"},
    };
    for (const auto& row : table) {
        INFO(row.args[0] + " " + row.args[1]);
        SmtpSink sink(row.args);
        if (!sink.running()) {
            WARN("smtp-sink not installed: skipped");
            return;
        }
        boost::asio::io_context ioc;
        auto res = std::make_shared<core::StaticResolver>();
        auto courier = make_courier(ioc, res, "127.0.0.1", sink.port());
        auto env = make_envelope({"a@example.org", "b@example.org"}, "", body);
        const auto outs = run_deliveries(ioc, courier, {env}, {body});
        for (const auto& r : outs[0].rcpts) {
            INFO(r.reply);
            CHECK(r.result == row.want);
            CHECK(r.reply.rfind(row.code, 0) == 0);
        }
    }
}

TEST_CASE("server down: transient with the connect error", "[client][connect]") {
    boost::asio::io_context ioc;
    auto res = std::make_shared<core::StaticResolver>();
    const uint16_t port = free_port();   // nothing listens there now
    auto courier = make_courier(ioc, res, "127.0.0.1", port);
    const std::string body = "x\r\n";
    auto env = make_envelope({"a@example.org"}, "", body);
    const auto outs = run_deliveries(ioc, courier, {env}, {body});
    CHECK_FALSE(outs[0].connected);
    CHECK(outs[0].rcpts[0].result == RcptResult::transient);
    CHECK(outs[0].error.find("connect to 127.0.0.1:" + std::to_string(port)) != std::string::npos);
    CHECK(outs[0].error.find("refused") != std::string::npos);
}

TEST_CASE("host names are resolved through the Resolver on every attempt", "[client][connect]") {
    SmtpSink sink({});
    if (!sink.running()) {
        WARN("smtp-sink not installed: skipped");
        return;
    }
    auto res = std::make_shared<core::StaticResolver>();
    const std::string body = "x\r\n";
    auto env = make_envelope({"a@example.org"}, "", body);
    {
        // NXDOMAIN: transient (a dynamic-DNS name may simply be late).
        core::DnsReply nx;
        nx.status = core::DnsStatus::nxdomain;
        res->add("home.test", core::rrtype::A, nx);
        res->add("home.test", core::rrtype::AAAA, nx);
        boost::asio::io_context ioc;
        auto courier = make_courier(ioc, res, "home.test", sink.port());
        const auto outs = run_deliveries(ioc, courier, {env}, {body});
        CHECK(outs[0].rcpts[0].result == RcptResult::transient);
        CHECK(outs[0].error.find("DNS lookup of home.test failed") != std::string::npos);
    }
    {
        // The address changed: the same courier now reaches the sink.
        core::DnsReply nodata;
        nodata.status = core::DnsStatus::nodata;
        res->add("home.test", core::rrtype::AAAA, nodata);
        res->add_record("home.test", core::rrtype::A, std::string("\x7f\x00\x00\x01", 4));
        boost::asio::io_context ioc;
        auto courier = make_courier(ioc, res, "home.test", sink.port());
        const auto outs = run_deliveries(ioc, courier, {env}, {body});
        CHECK(outs[0].rcpts[0].result == RcptResult::delivered);
        CHECK(outs[0].mx == "home.test[127.0.0.1]:" + std::to_string(sink.port()));
    }
}

TEST_CASE("credentials are never sent without TLS", "[client][auth][sink]") {
    // smtp-sink offers AUTH in plaintext; tls: none + auth must refuse.
    SmtpSink sink({});
    if (!sink.running()) {
        WARN("smtp-sink not installed: skipped");
        return;
    }
    boost::asio::io_context ioc;
    auto res = std::make_shared<core::StaticResolver>();
    conf::Downstream ds;
    ds.address = conf::HostPort{"127.0.0.1", sink.port()};
    ds.tls = conf::DownstreamTls::none;
    ds.auth = conf::DownstreamAuth{"relay", "/nonexistent/never-read"};
    client::ClientSettings st;
    st.hostname = "mx.example.org";
    client::DownstreamCourier courier(ioc.get_executor(), res, ds, nullptr, st);
    const std::string body = "x\r\n";
    auto env = make_envelope({"a@example.org"}, "", body);
    const auto outs = run_deliveries(ioc, courier, {env}, {body});
    CHECK(outs[0].connected);
    CHECK(outs[0].rcpts[0].result == RcptResult::transient);
    CHECK(outs[0].error.find("without TLS") != std::string::npos);
    CHECK(sink.dumps().empty());
}
