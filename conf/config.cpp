// conf/config.cpp — the few methods of the Config value types: domain lookup,
// host:port text and CIDR membership.
#include "conf/config.hpp"

namespace mxgate::conf {

const Domain* Config::find_domain(std::string_view domain) const {
    for (const Domain& d : domains)
        if (d.name == domain) return &d;
    return nullptr;
}

std::string HostPort::text() const {
    // An IPv6 literal is the only host with a colon; bracket it (RFC 3986 §3.2.2).
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

bool Network::contains(const std::array<uint8_t, 16>& a, bool is_v6) const {
    std::array<uint8_t, 16> probe = a;
    if (is_v6 && !v6) {
        // An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is the
        // IPv4 client a dual-stack socket reports; compare it as IPv4.
        static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        for (int i = 0; i < 12; ++i)
            if (a[i] != kMapped[i]) return false;
        probe = {};
        for (int i = 0; i < 4; ++i) probe[i] = a[12 + i];
    } else if (is_v6 != v6) {
        return false;
    }
    int bits = prefix;
    for (int i = 0; bits > 0; ++i, bits -= 8) {
        const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
        if ((probe[i] & mask) != (addr[i] & mask)) return false;
    }
    return true;
}

}  // namespace mxgate::conf
