// tlspolicy/downgrade_record.cpp — handshake-failure records and the
// "same client" rule (downgrade_record.hpp). Addresses are parsed with
// inet_pton (no Asio: this file is built into a fuzz target).
#include "tlspolicy/downgrade_record.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <sstream>

#include "relay/core/ascii.hpp"

namespace mxgate::tlspolicy {
namespace {

// Record fields are one per line, so peer text must not contain newlines.
std::string one_line(std::string s) {
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s;
}

// An address in canonical form: 4 octets for IPv4 (also an IPv4-mapped
// IPv6 address), 16 for IPv6; empty when `ip` is not an address.
std::string canonical_bytes(const std::string& ip) {
    std::array<unsigned char, 16> b{};
    if (inet_pton(AF_INET, ip.c_str(), b.data()) == 1) return std::string(reinterpret_cast<char*>(b.data()), 4);
    if (inet_pton(AF_INET6, ip.c_str(), b.data()) != 1) return {};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b.data(), mapped, 12) == 0) return std::string(reinterpret_cast<char*>(b.data()) + 12, 4);
    return std::string(reinterpret_cast<char*>(b.data()), 16);
}

}  // namespace

std::string encode_failure(const HandshakeFailure& f) {
    std::string out = "v1\n";
    out += std::to_string(f.at) + "\n";
    for (const std::string* s : {&f.client, &f.helo, &f.error, &f.listener, &f.offered_versions, &f.offered_ciphers})
        out += one_line(*s) + "\n";
    return out;
}

std::optional<HandshakeFailure> decode_failure(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != "v1") return std::nullopt;
    HandshakeFailure f;
    if (!std::getline(in, line)) return std::nullopt;
    // Only what encode_failure() writes: optional '-', digits.
    const size_t digits_from = (!line.empty() && line[0] == '-') ? 1 : 0;
    if (line.size() == digits_from || line.size() > 20 ||
        line.find_first_not_of("0123456789", digits_from) != std::string::npos)
        return std::nullopt;
    try {
        f.at = std::stoll(line);
    } catch (const std::exception&) {  // out of range
        return std::nullopt;
    }
    // A CR inside a field is not something encode_failure() writes (found by
    // fuzzing: such a record re-encoded differently).
    for (std::string* s : {&f.client, &f.helo, &f.error, &f.listener, &f.offered_versions, &f.offered_ciphers})
        if (!std::getline(in, *s) || s->find('\r') != std::string::npos) return std::nullopt;
    if (client_network(f.client).empty()) return std::nullopt;
    return f;
}

std::string client_network(const std::string& ip) {
    std::string b = canonical_bytes(ip);
    char text[INET6_ADDRSTRLEN] = {};
    if (b.size() == 4) {
        b[3] = 0;
        inet_ntop(AF_INET, b.data(), text, sizeof text);
        return std::string(text) + "/24";
    }
    if (b.size() == 16) {
        std::fill(b.begin() + 8, b.end(), '\0');
        inet_ntop(AF_INET6, b.data(), text, sizeof text);
        return std::string(text) + "/64";
    }
    return {};
}

bool same_client(const std::string& ip_a, const std::string& helo_a, const std::string& ip_b,
                 const std::string& helo_b) {
    const std::string na = client_network(ip_a), nb = client_network(ip_b);
    if (na.empty() || nb.empty()) return false;
    // Compare addresses in canonical form (::ffff:192.0.2.1 is 192.0.2.1).
    if (canonical_bytes(ip_a) == canonical_bytes(ip_b)) return true;
    if (helo_a.empty() || helo_b.empty()) return false;
    return na == nb && core::ascii::iequals(helo_a, helo_b);
}

}  // namespace mxgate::tlspolicy
