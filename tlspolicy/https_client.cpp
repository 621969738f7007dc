#include "tlspolicy/https_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace mxgate::tlspolicy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

asio::awaitable<std::vector<asio::ip::address>> addresses(core::Resolver& r, const std::string& host,
                                                          std::string& error) {
    std::vector<asio::ip::address> out;
    auto a = co_await core::lookup_a(r, host);
    auto aaaa = co_await core::lookup_aaaa(r, host);
    error_code ec;
    for (const auto* res : {&a, &aaaa}) {
        if (res->status != core::DnsStatus::ok) continue;
        for (const auto& t : res->records) {
            auto addr = asio::ip::make_address(t, ec);
            if (!ec) out.push_back(addr);
        }
    }
    if (out.empty())
        error = "no address for " + host +
                (a.status == core::DnsStatus::temp_fail ? " (DNS temporary failure)" : "");
    co_return out;
}

}  // namespace

asio::awaitable<HttpsResponse> https_request(asio::any_io_executor ex, core::Resolver& resolver, ContextPtr ctx,
                                             HttpsRequest rq) {
    HttpsResponse out;
    const std::string& host = rq.host;
    if (!ctx) {
        out.error = "no TLS client context";
        co_return out;
    }
    std::string err;
    auto addrs = co_await addresses(resolver, host, err);
    if (addrs.empty()) {
        out.error = err;
        co_return out;
    }
    const auto deadline = std::chrono::steady_clock::now() + rq.timeout;
    beast::ssl_stream<beast::tcp_stream> stream(ex, *ctx);
    error_code ec;
    std::string connect_errors;
    bool connected = false;
    for (const auto& addr : addrs) {
        beast::get_lowest_layer(stream).expires_at(deadline);
        asio::ip::tcp::endpoint ep(addr, rq.port);
        co_await beast::get_lowest_layer(stream).async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) {
            connected = true;
            break;
        }
        connect_errors += (connect_errors.empty() ? "" : "; ") + addr.to_string() + ": " + ec.message();
        beast::get_lowest_layer(stream).close();
    }
    if (!connected) {
        out.error = "connect to " + host + " failed: " + connect_errors;
        co_return out;
    }
    if (!prepare_client_connection(stream.native_handle(), host, err)) {
        out.error = err;
        co_return out;
    }
    beast::get_lowest_layer(stream).expires_at(deadline);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        out.error = "TLS handshake with " + host + " failed: " + ec.message();
        co_return out;
    }
    // The certificate must chain to a trusted root and name the host.
    const SessionInfo info = describe(stream.native_handle());
    X509* cert = SSL_get0_peer_certificate(stream.native_handle());
    if (!info.chain_verified) {
        out.error = "certificate of " + host + " not verified: " + info.verify_error;
        co_return out;
    }
    if (!cert || !certificate_matches_host(cert, host)) {
        out.error = "certificate does not name " + host;
        co_return out;
    }

    http::request<http::string_body> req{rq.post ? http::verb::post : http::verb::get, rq.target, 11};
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "mxgate");
    req.set(http::field::connection, "close");
    if (rq.post) {
        req.set(http::field::content_type, rq.content_type);
        req.body() = std::move(rq.body);
        req.prepare_payload();
    }
    beast::get_lowest_layer(stream).expires_at(deadline);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        out.error = "HTTP request to " + host + " failed: " + ec.message();
        co_return out;
    }
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(rq.body_limit);
    parser.header_limit(16 * 1024);
    co_await http::async_read(stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        out.body_too_large = ec == http::error::body_limit;
        out.error = "HTTP response from " + host + " failed: " + ec.message();
        co_return out;
    }
    auto& res = parser.get();
    out.ok = true;
    out.status = res.result_int();
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    // Connection: close was asked for; no TLS shutdown wait (nothing more
    // is read, and a server that never sends close_notify would stall us).
    beast::get_lowest_layer(stream).close();
    co_return out;
}

}  // namespace mxgate::tlspolicy
