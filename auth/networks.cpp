#include "auth/networks.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace mxgate::auth {

std::optional<IpAddress> parse_ip(std::string_view text) {
    const std::string s(text);
    IpAddress ip;
    in_addr a4{};
    in6_addr a6{};
    if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
        std::memcpy(ip.bytes.data(), &a4, 4);
        return ip;
    }
    if (inet_pton(AF_INET6, s.c_str(), &a6) != 1) return std::nullopt;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(&a6, kMapped, 12) == 0) {
        std::memcpy(ip.bytes.data(), reinterpret_cast<const uint8_t*>(&a6) + 12, 4);
        return ip;
    }
    ip.v6 = true;
    std::memcpy(ip.bytes.data(), &a6, 16);
    return ip;
}

std::string network_of(const IpAddress& ip) {
    char buf[INET6_ADDRSTRLEN + 8];
    if (!ip.v6) {
        std::snprintf(buf, sizeof buf, "%u.%u.%u.0/24", ip.bytes[0], ip.bytes[1], ip.bytes[2]);
        return buf;
    }
    in6_addr a6{};
    std::memcpy(&a6, ip.bytes.data(), 8);  // the /64: last eight bytes zero
    char text[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, &a6, text, sizeof text) == nullptr) return "";
    return std::string(text) + "/64";
}

std::string network_of(std::string_view ip_text) {
    const std::optional<IpAddress> ip = parse_ip(ip_text);
    return ip ? network_of(*ip) : std::string();
}

NetworkVerdict check_network(const conf::AuthConfig& cfg, std::string_view user, const IpAddress& ip) {
    for (const conf::Network& n : cfg.deny_networks)
        if (n.contains(ip.bytes, ip.v6)) return NetworkVerdict::denied_network;
    const auto it = cfg.networks.find(std::string(user));
    if (it == cfg.networks.end()) return NetworkVerdict::allowed;  // absent = any network
    for (const conf::Network& n : it->second)
        if (n.contains(ip.bytes, ip.v6)) return NetworkVerdict::allowed;
    return NetworkVerdict::outside_user_networks;
}

const char* reason_text(NetworkVerdict v) {
    switch (v) {
        case NetworkVerdict::allowed: return "allowed";
        case NetworkVerdict::denied_network: return "client network is in auth.deny_networks";
        case NetworkVerdict::outside_user_networks: return "client network is outside auth.networks for the user";
    }
    return "";
}

}  // namespace mxgate::auth
