// relay/core/dns_ad_probe.cpp — the trust-ad probe (see dns_ad_probe.hpp).
//
// SECURITY: see the header. The query ID comes from std::random_device
// (RFC 5452 §9.2); the reply is checked by parse_ad_reply (dns_message.cpp)
// before a single flag is believed.
// RFCs: 1035 §4.2.1 (UDP), 4035 §3.2.3, 6840 §5.7, 5452.
#include "relay/core/dns_ad_probe.hpp"

#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string_view>

namespace mxgate::core {

namespace asio = boost::asio;
using asio::ip::udp;

std::optional<udp::endpoint> ad_probe_target(const conf::DnsConfig& cfg) {
    boost::system::error_code ec;
    if (cfg.resolver) {
        std::string host = cfg.resolver->host;
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        const auto addr = asio::ip::make_address(host, ec);
        if (ec) return std::nullopt;
        return udp::endpoint(addr, cfg.resolver->port);
    }
    std::ifstream in("/etc/resolv.conf");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key, value;
        if (!(words >> key >> value) || key != "nameserver") continue;
        const auto addr = asio::ip::make_address(value, ec);
        if (!ec) return udp::endpoint(addr, 53);
    }
    return std::nullopt;
}

asio::awaitable<std::optional<bool>> probe_ad(udp::endpoint server, std::string name, uint16_t type, DnsStatus expect,
                               std::chrono::milliseconds timeout) {
    if (expect != DnsStatus::ok && expect != DnsStatus::nodata && expect != DnsStatus::nxdomain)
        co_return std::nullopt;
    const uint16_t id = static_cast<uint16_t>(std::random_device{}() & 0xFFFF);
    const std::optional<std::string> query = build_ad_query(name, type, id);
    if (!query) co_return std::nullopt;

    auto ex = co_await asio::this_coro::executor;
    boost::system::error_code ec;
    // Shared with the deadline handler, which may run after we return.
    auto sock = std::make_shared<udp::socket>(ex);
    sock->open(server.protocol(), ec);
    if (!ec) sock->connect(server, ec);  // the kernel drops datagrams from anyone else
    if (ec) co_return std::nullopt;
    asio::steady_timer deadline(ex);
    deadline.expires_after(timeout);
    deadline.async_wait([sock](boost::system::error_code e) {
        if (!e) {
            boost::system::error_code ignored;
            sock->cancel(ignored);
        }
    });

    co_await sock->async_send(asio::buffer(*query), asio::redirect_error(asio::use_awaitable, ec));
    std::array<char, 4096> buf;  // header + question are all we read
    while (!ec) {
        const size_t n = co_await sock->async_receive(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        const auto h = parse_ad_reply(std::string_view(buf.data(), n), *query);
        if (!h) continue;  // not an answer to our question: keep waiting until the deadline
        deadline.cancel();
        const bool same_outcome = expect == DnsStatus::nxdomain ? h->rcode == 3 : h->rcode == 0;
        if (!same_outcome) co_return std::nullopt;
        const bool ad = h->ad;
        co_return ad;
    }
    deadline.cancel();
    co_return std::nullopt;
}

}  // namespace mxgate::core
