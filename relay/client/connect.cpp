// relay/client/connect.cpp — see connect.hpp.
#include "relay/client/connect.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace mxgate::client {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

std::string strip_brackets(const std::string& host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        return host.substr(1, host.size() - 2);
    return host;
}

bool is_ip_literal(const std::string& host) {
    error_code ec;
    asio::ip::make_address(strip_brackets(host), ec);
    return !ec;
}

asio::awaitable<std::vector<asio::ip::address>> resolve_host(core::Resolver& resolver,
                                                             const std::string& host,
                                                             std::string& error) {
    std::vector<asio::ip::address> out;
    const std::string name = strip_brackets(host);
    error_code ec;
    const auto literal = asio::ip::make_address(name, ec);
    if (!ec) {
        out.push_back(literal);
        co_return out;
    }
    const auto a = co_await core::lookup_a(resolver, name);
    const auto aaaa = co_await core::lookup_aaaa(resolver, name);
    for (const auto* res : {&a, &aaaa}) {
        if (res->status != core::DnsStatus::ok) continue;
        for (const auto& text : res->records) {
            const auto addr = asio::ip::make_address(text, ec);
            if (!ec) out.push_back(addr);
        }
    }
    if (out.empty()) {
        auto describe = [](const core::DnsResult<std::string>& r) -> std::string {
            switch (r.status) {
                case core::DnsStatus::ok: return "no usable address";
                case core::DnsStatus::nxdomain: return "NXDOMAIN";
                case core::DnsStatus::nodata: return "no records";
                case core::DnsStatus::temp_fail: return "temporary failure" + (r.error.empty() ? "" : " (" + r.error + ")");
            }
            return "?";
        };
        // Every DNS failure is temporary for a downstream: the name is the
        // administrator's, and a dynamic-DNS update may simply be late.
        error = "DNS lookup of " + name + " failed: A " + describe(a) + ", AAAA " + describe(aaaa);
    }
    co_return out;
}

namespace {

// Connects with a deadline: a timer closes the socket if it fires first.
asio::awaitable<error_code> connect_one(tcp::socket& sock, const tcp::endpoint& ep, Duration timeout) {
    error_code ec;
    sock.open(ep.protocol(), ec);
    if (ec) co_return ec;
    asio::steady_timer timer(sock.get_executor());
    timer.expires_after(timeout);
    auto fired = std::make_shared<bool>(false);
    auto done = std::make_shared<bool>(false);
    timer.async_wait([&sock, fired, done](error_code tec) {
        if (tec || *done) return;
        *fired = true;
        error_code ignored;
        sock.cancel(ignored);
    });
    co_await sock.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    *done = true;
    timer.cancel();
    if (ec && *fired) ec = asio::error::timed_out;
    if (ec) {
        error_code ignored;
        sock.close(ignored);
    }
    co_return ec;
}

std::string peer_text(const std::string& host, const asio::ip::address& addr, uint16_t port) {
    const std::string a = addr.to_string();
    if (strip_brackets(host) == a) return (addr.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(port);
    return host + "[" + a + "]:" + std::to_string(port);
}

}  // namespace

asio::awaitable<ConnectResult> connect_host(asio::any_io_executor ex, core::Resolver& resolver,
                                            const conf::HostPort& target, Duration timeout) {
    ConnectResult result;
    const auto addrs = co_await resolve_host(resolver, target.host, result.error);
    if (addrs.empty()) co_return result;
    std::string errors;
    for (const auto& addr : addrs) {
        tcp::socket sock(ex);
        const error_code ec = co_await connect_one(sock, tcp::endpoint(addr, target.port), timeout);
        const std::string peer = peer_text(target.host, addr, target.port);
        if (!ec) {
            result.socket.emplace(std::move(sock));
            result.peer = peer;
            result.error.clear();
            co_return result;
        }
        if (!errors.empty()) errors += "; ";
        errors += "connect to " + peer + ": " + ec.message();
    }
    result.error = errors;
    co_return result;
}

}  // namespace mxgate::client
