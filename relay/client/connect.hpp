// relay/client/connect.hpp — turn a configured host:port into a connected
// TCP socket, with a deadline per address.
//
// The host name is looked up through core::Resolver on every call (the
// home box has a dynamic address; nothing is cached here). IP literals
// ("192.0.2.1", "::1", "[::1]") are used directly. Addresses are tried in
// order: A records first, then AAAA — residential IPv6 is often firewalled
// at the customer router, where a SYN is dropped silently and costs the
// whole connect timeout, while the IPv4 forward is what users configure.
//
// SECURITY: addresses come from DNS (untrusted); they are only used as
// connect targets. Errors are values; nothing throws.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <vector>

#include "relay/client/client.hpp"

namespace mxgate::client {

struct ConnectResult {
    std::optional<boost::asio::ip::tcp::socket> socket;
    std::string peer;    // "host[ip]:port" of the connected address
    std::string error;   // why no address worked (DNS or every connect)
};

// Host without brackets, and whether it is an IP literal.
std::string strip_brackets(const std::string& host);
bool is_ip_literal(const std::string& host);

// Candidate addresses for host (literal or DNS A then AAAA). On failure
// returns an empty list and sets error.
boost::asio::awaitable<std::vector<boost::asio::ip::address>> resolve_host(
    core::Resolver& resolver, const std::string& host, std::string& error);

boost::asio::awaitable<ConnectResult> connect_host(boost::asio::any_io_executor ex,
                                                   core::Resolver& resolver,
                                                   const conf::HostPort& target,
                                                   Duration timeout);

}  // namespace mxgate::client
