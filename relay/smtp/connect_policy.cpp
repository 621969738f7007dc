// relay/smtp/connect_policy.cpp — see connect_policy.hpp.
#include "relay/smtp/connect_policy.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace mxgate::smtp {

namespace {

// Parses an IPv4 or IPv6 literal; v4-mapped IPv6 becomes IPv4.
struct Address {
    bool v6 = false;
    unsigned char bytes[16] = {};
};

std::optional<Address> parse_ip(std::string_view ip) {
    if (ip.empty() || ip.size() > 45) return std::nullopt;
    char buf[64];
    ip.copy(buf, ip.size());
    buf[ip.size()] = '\0';
    Address a;
    if (inet_pton(AF_INET, buf, a.bytes) == 1) return a;
    if (inet_pton(AF_INET6, buf, a.bytes) != 1) return std::nullopt;
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes, kMapped, 12) == 0) {
        std::memmove(a.bytes, a.bytes + 12, 4);
        std::memset(a.bytes + 4, 0, 12);
        return a;
    }
    a.v6 = true;
    return a;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

std::optional<std::string> dnsbl_query_name(std::string_view ip, std::string_view zone) {
    while (!zone.empty() && zone.back() == '.') zone.remove_suffix(1);
    if (zone.empty()) return std::nullopt;
    const auto a = parse_ip(ip);
    if (!a) return std::nullopt;
    std::string name;
    char buf[8];
    if (!a->v6) {
        for (int i = 3; i >= 0; --i) {
            std::snprintf(buf, sizeof buf, "%u.", static_cast<unsigned>(a->bytes[i]));
            name += buf;
        }
    } else {
        static const char kHex[] = "0123456789abcdef";
        for (int i = 15; i >= 0; --i) {
            name += kHex[a->bytes[i] & 0x0f];
            name += '.';
            name += kHex[a->bytes[i] >> 4];
            name += '.';
        }
    }
    return name + lower(zone);
}

DnsblAnswer classify_dnsbl_answer(std::string_view a_record) {
    unsigned char b[4];
    char buf[32];
    if (a_record.size() >= sizeof buf) return DnsblAnswer::not_listed;
    a_record.copy(buf, a_record.size());
    buf[a_record.size()] = '\0';
    if (inet_pton(AF_INET, buf, b) != 1) return DnsblAnswer::not_listed;
    if (b[0] != 127) return DnsblAnswer::not_listed;  // RFC 5782 §2.3: only 127/8 answers mean anything
    if (b[1] == 255 && b[2] == 255) return DnsblAnswer::list_error;
    return DnsblAnswer::listed;
}

std::optional<std::string> greylist_key(std::string_view ip, std::string_view sender, std::string_view recipient) {
    const auto a = parse_ip(ip);
    if (!a) return std::nullopt;
    char buf[INET6_ADDRSTRLEN];
    unsigned char net[16] = {};
    std::string out;
    if (!a->v6) {
        std::memcpy(net, a->bytes, 3);  // /24
        inet_ntop(AF_INET, net, buf, sizeof buf);
        out = std::string(buf) + "/24";
    } else {
        std::memcpy(net, a->bytes, 8);  // /64
        inet_ntop(AF_INET6, net, buf, sizeof buf);
        out = std::string(buf) + "/64";
    }
    return out + "|" + lower(sender) + "|" + lower(recipient);
}

}  // namespace mxgate::smtp
