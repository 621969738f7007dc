// auth/networks.hpp — where a login comes from (SPEC §5, §9):
//   - network_of(ip): the /24 (IPv4) or /64 (IPv6) in CIDR notation, the
//     `network` field of auth.* events and the unit of auth.new_network;
//   - check_network(): `auth.deny_networks` refuses everyone, and a user
//     listed in `auth.networks` may log in only from those networks.
//
// SECURITY: the address is the TCP peer's (never a header or EHLO value).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "conf/config.hpp"

namespace mxgate::auth {

struct IpAddress {
    std::array<uint8_t, 16> bytes{};  // IPv4 in the first four
    bool v6 = false;
};

// Parses a textual IPv4 or IPv6 address; IPv4-mapped IPv6 becomes IPv4.
std::optional<IpAddress> parse_ip(std::string_view text);
std::string network_of(const IpAddress& ip);
std::string network_of(std::string_view ip_text);  // "" when not an address

enum class NetworkVerdict { allowed, denied_network, outside_user_networks };
NetworkVerdict check_network(const conf::AuthConfig& cfg, std::string_view user, const IpAddress& ip);
const char* reason_text(NetworkVerdict v);

}  // namespace mxgate::auth
