// relay/core/dns_ad_probe.hpp — private to relay/core: asks the configured
// upstream resolver directly whether it considers an answer authentic
// (the AD bit), for dns.dnssec: trust-ad. libunbound re-encodes answers and
// drops the upstream's AD bit, so it cannot tell us (docs/dns.md).
//
// SECURITY: the AD bit is only as trustworthy as the path to the resolver
// (RFC 6698 §4.1 / RFC 4035 §4.9.3): use a validating resolver on
// loopback. Replies must match our random ID and question and come from
// the resolver's address (connected UDP socket); anything else is ignored.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "conf/config.hpp"
#include "relay/core/resolver.hpp"

namespace mxgate::core {

// The server to probe: dns.resolver, or the first nameserver line of
// /etc/resolv.conf (port 53). nullopt if none is a literal IP address.
std::optional<boost::asio::ip::udp::endpoint> ad_probe_target(const conf::DnsConfig& cfg);

// One UDP query (RD, AD, DO) for (name, type): the AD bit of a matching
// reply that arrives within `timeout` with the same NOERROR/NXDOMAIN
// outcome as `expect`. nullopt when there is no such reply (timeout, I/O
// error, another outcome): callers treat that as not authenticated, and
// do not keep the answer (answer_cache.hpp). Never throws for I/O.
boost::asio::awaitable<std::optional<bool>> probe_ad(boost::asio::ip::udp::endpoint server, std::string name,
                                                     uint16_t type, DnsStatus expect,
                                                     std::chrono::milliseconds timeout);

}  // namespace mxgate::core
