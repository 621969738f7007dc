// relay/core/dns_rdata.cpp — pure parsers for the RDATA that Resolver::query
// returns: domain names, MX, A, AAAA, TXT and TLSA.
//
// Interface: the parse_* functions declared in resolver.hpp. Each takes the
// raw RDATA of one record and returns nullopt when it is malformed; none
// of them allocates more than its output or touches global state.
//
// SECURITY: every byte here comes from the network (a DNS server, or
// anything on the path to it). Every length is checked against the bytes
// that remain before it is used, a record must be consumed exactly (no
// trailing bytes), and names are restricted to letters, digits, '-' and
// '_' so a label cannot smuggle a '.', a space or a control byte into a
// host name that later becomes a TLS reference identifier or a log line.
// This file is fuzzed (tests/fuzz/dns_rdata_fuzz.cpp) and is compiled by
// clang without Boost, so it must include no Asio header.
//
// RFCs: 1035 §3.1 (names), §3.3.9 (MX), §3.3.14 (TXT), §3.4.1 (A),
// 3596 §2.2 (AAAA), 5952 (IPv6 text), 6698 §2.1 (TLSA), 7505 (null MX).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// dns_rdata.hpp, not resolver.hpp: the fuzz build (clang, no Asio) compiles
// this file on its own.
#include "relay/core/dns_rdata.hpp"

namespace mxgate::core {
namespace {

constexpr size_t kMaxNameWire = 255;  // RFC 1035 §2.3.4, including the root label
constexpr size_t kMaxLabel = 63;      // RFC 1035 §2.3.4

uint8_t byte_at(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }

// Letters, digits, hyphen (RFC 1035 §2.3.1 LDH) and underscore (service
// labels such as _dmarc, _25._tcp). Upper case is folded by the caller.
bool name_octet_ok(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

char lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); }

}  // namespace

std::optional<std::string> parse_wire_name(std::string_view rdata, size_t& pos) {
    std::string out;
    size_t p = pos;
    size_t wire_len = 0;
    for (;;) {
        if (p >= rdata.size()) return std::nullopt;  // ran out before the root label
        const uint8_t len = byte_at(rdata, p);
        ++p;
        ++wire_len;
        if (len == 0) break;
        // 0b11 = compression pointer, 0b01/0b10 = obsolete/reserved label
        // types (RFC 6891 §5). RDATA handed to us is uncompressed.
        if ((len & 0xC0) != 0) return std::nullopt;
        if (len > kMaxLabel) return std::nullopt;
        if (len > rdata.size() - p) return std::nullopt;
        wire_len += len;
        if (wire_len >= kMaxNameWire) return std::nullopt;  // + root label would exceed 255
        if (!out.empty()) out.push_back('.');
        for (size_t i = 0; i < len; ++i) {
            const uint8_t c = byte_at(rdata, p + i);
            if (!name_octet_ok(c)) return std::nullopt;
            out.push_back(lower(c));
        }
        p += len;
    }
    pos = p;
    return out;  // "" is the root name "."
}

std::optional<MxRecord> parse_mx_rdata(std::string_view rdata) {
    // RFC 1035 §3.3.9: 16-bit PREFERENCE, then EXCHANGE (a domain name).
    if (rdata.size() < 3) return std::nullopt;
    MxRecord mx;
    mx.preference = static_cast<uint16_t>((byte_at(rdata, 0) << 8) | byte_at(rdata, 1));
    size_t pos = 2;
    auto host = parse_wire_name(rdata, pos);
    if (!host || pos != rdata.size()) return std::nullopt;
    mx.host = std::move(*host);  // "" = "." = null MX (RFC 7505 §3)
    return mx;
}

std::optional<std::string> parse_a_rdata(std::string_view rdata) {
    // RFC 1035 §3.4.1: exactly 4 octets.
    if (rdata.size() != 4) return std::nullopt;
    std::string out;
    for (size_t i = 0; i < 4; ++i) {
        if (i) out.push_back('.');
        out += std::to_string(byte_at(rdata, i));
    }
    return out;
}

std::optional<std::string> parse_aaaa_rdata(std::string_view rdata) {
    // RFC 3596 §2.2: exactly 16 octets. glibc's inet_ntop writes the
    // RFC 5952 §4 form (lower case, longest zero run as "::", no leading
    // zeros) and the §5 mixed form for IPv4-mapped addresses.
    if (rdata.size() != 16) return std::nullopt;
    in6_addr addr{};
    for (size_t i = 0; i < 16; ++i) addr.s6_addr[i] = byte_at(rdata, i);
    char buf[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET6, &addr, buf, sizeof buf) == nullptr) return std::nullopt;
    return std::string(buf);
}

std::optional<std::string> parse_txt_rdata(std::string_view rdata) {
    // RFC 1035 §3.3.14: one or more <character-string>s, each a length
    // octet and that many octets. RFC 7208 §3.3 / RFC 6376 §3.6.2.2: the
    // strings of one record are concatenated without separators.
    if (rdata.empty()) return std::nullopt;
    std::string out;
    size_t p = 0;
    while (p < rdata.size()) {
        const size_t len = byte_at(rdata, p);
        ++p;
        if (len > rdata.size() - p) return std::nullopt;
        out.append(rdata.substr(p, len));
        p += len;
    }
    return out;
}

std::optional<TlsaRecord> parse_tlsa_rdata(std::string_view rdata) {
    // RFC 6698 §2.1: usage, selector, matching type (one octet each), then
    // the certificate association data. Only the structure is checked
    // here: whether a record is *usable* (known usage, digest length that
    // fits its matching type) is the TLSA matcher's call, because RFC 7672
    // §2.2 treats "all records unusable" differently from a lookup failure.
    if (rdata.size() < 3) return std::nullopt;
    TlsaRecord t;
    t.usage = byte_at(rdata, 0);
    t.selector = byte_at(rdata, 1);
    t.matching_type = byte_at(rdata, 2);
    t.data = std::string(rdata.substr(3));
    return t;
}

}  // namespace mxgate::core
