// conf/scalars.cpp — the value grammars of SPEC §3: durations ("30s", "5m",
// "2h", "5d"), sizes ("10M", "512K", binary units, plain number = bytes),
// host:port ("[::]:25", "127.0.0.1:2525", "name:25") and CIDR networks.
// Pure functions: no YAML, no I/O; fuzzed through tests/fuzz/config_fuzz.cpp.
#include <arpa/inet.h>

#include <cstring>
#include <limits>

#include "conf/conf.hpp"
#include "conf/detail.hpp"

namespace mxgate::conf {
namespace {

// Decimal digits only (no sign, no spaces), without overflow; nullopt otherwise.
std::optional<uint64_t> parse_digits(std::string_view s) {
    if (s.empty()) return std::nullopt;
    constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<uint64_t>(c - '0');
        if (v > (kMax - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

// Multiplies without overflow past `limit`.
std::optional<uint64_t> scaled(uint64_t v, uint64_t unit, uint64_t limit) {
    if (v > limit / unit) return std::nullopt;
    return v * unit;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view s) {
    if (s.size() < 2) return std::nullopt;
    uint64_t unit = 0;
    switch (s.back()) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return std::nullopt;  // "M" (minutes or months?) is refused on purpose
    }
    const std::optional<uint64_t> n = parse_digits(s.substr(0, s.size() - 1));
    if (!n) return std::nullopt;
    // Cap at about 100 years: beyond that a value is a typo, and the cap keeps
    // every later time_point addition far from overflow.
    constexpr uint64_t kMax = 100ull * 366 * 86400;
    const std::optional<uint64_t> secs = scaled(*n, unit, kMax);
    if (!secs) return std::nullopt;
    return Duration(static_cast<Duration::rep>(*secs));
}

std::optional<uint64_t> parse_size(std::string_view s) {
    if (s.empty()) return std::nullopt;
    uint64_t unit = 1;
    switch (s.back()) {
        case 'K': case 'k': unit = 1ull << 10; break;
        case 'M': case 'm': unit = 1ull << 20; break;
        case 'G': case 'g': unit = 1ull << 30; break;
        case 'T': case 't': unit = 1ull << 40; break;
        default: break;
    }
    if (unit != 1) s.remove_suffix(1);
    const std::optional<uint64_t> n = parse_digits(s);
    if (!n) return std::nullopt;
    return scaled(*n, unit, std::numeric_limits<uint64_t>::max());
}

std::optional<HostPort> parse_host_port(std::string_view s) {
    HostPort hp;
    std::string_view port_text;
    if (!s.empty() && s.front() == '[') {
        const size_t close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
            return std::nullopt;
        hp.host = std::string(s.substr(1, close - 1));
        in6_addr a6;
        if (inet_pton(AF_INET6, hp.host.c_str(), &a6) != 1) return std::nullopt;
        port_text = s.substr(close + 2);
    } else {
        const size_t colon = s.rfind(':');
        if (colon == std::string_view::npos || colon == 0) return std::nullopt;
        hp.host = detail::lower(s.substr(0, colon));
        // An unbracketed IPv6 literal is ambiguous ("::1:25"); RFC 3986 wants brackets.
        if (hp.host.find(':') != std::string::npos) return std::nullopt;
        in_addr a4;
        if (inet_pton(AF_INET, hp.host.c_str(), &a4) != 1 && !detail::domain_name_problem(hp.host).empty())
            return std::nullopt;
        port_text = s.substr(colon + 1);
    }
    if (port_text.size() > 5) return std::nullopt;
    const std::optional<uint64_t> port = parse_digits(port_text);
    if (!port || *port == 0 || *port > 65535) return std::nullopt;
    hp.port = static_cast<uint16_t>(*port);
    return hp;
}

std::optional<Network> parse_network(std::string_view s) {
    Network net;
    const size_t slash = s.find('/');
    const std::string addr_text(s.substr(0, slash));
    if (addr_text.find(':') != std::string::npos) {
        net.v6 = true;
        if (inet_pton(AF_INET6, addr_text.c_str(), net.addr.data()) != 1) return std::nullopt;
    } else if (inet_pton(AF_INET, addr_text.c_str(), net.addr.data()) != 1) {
        return std::nullopt;
    }
    const int max_prefix = net.v6 ? 128 : 32;
    net.prefix = max_prefix;  // a bare address is a one-host network
    if (slash != std::string_view::npos) {
        const std::string_view p = s.substr(slash + 1);
        if (p.size() > 3) return std::nullopt;
        const std::optional<uint64_t> n = parse_digits(p);
        if (!n || *n > static_cast<uint64_t>(max_prefix)) return std::nullopt;
        net.prefix = static_cast<int>(*n);
    }
    // Canonical form: host bits cleared ("10.1.2.3/8" is "10.0.0.0/8").
    for (int i = 0; i < 16; ++i) {
        const int bits = net.prefix - i * 8;
        if (bits >= 8) continue;
        net.addr[i] &= bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
    }
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(net.v6 ? AF_INET6 : AF_INET, net.addr.data(), buf, sizeof buf) == nullptr)
        return std::nullopt;
    net.text = std::string(buf) + "/" + std::to_string(net.prefix);
    return net;
}

}  // namespace mxgate::conf
