// relay/core/dns_message.cpp — the smallest DNS message codec: build one
// query and check that a reply answers it, reading only the header and
// the question. Used by the trust-ad probe (unbound_resolver.cpp), which
// needs the upstream's AD bit that libunbound does not pass on
// (docs/dns.md).
//
// Interface: build_ad_query(), parse_ad_reply() (dns_rdata.hpp).
//
// SECURITY: the reply is untrusted network input (anyone who can send a
// UDP datagram to our ephemeral port). It is accepted only if its ID,
// flags and question match the query we sent byte for byte (case folded);
// every read is bounds-checked and no record section is parsed. Pure and
// Asio-free: fuzzed with the RDATA parsers (tests/fuzz/dns_rdata_fuzz.cpp).
// RFCs: 1035 §4.1 (message format), 3225 (DO bit), 4035 §3.2.3 (AD),
// 6840 §5.7 (AD in queries), 6891 §6.1 (OPT record).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "relay/core/dns_rdata.hpp"

namespace mxgate::core {
namespace {

constexpr size_t kHeader = 12;

void put16(std::string& out, uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xFF));
}

uint16_t get16(std::string_view s, size_t i) {
    return static_cast<uint16_t>((static_cast<uint8_t>(s[i]) << 8) | static_cast<uint8_t>(s[i + 1]));
}

char fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Length of the uncompressed wire name starting at s[pos], or 0 if it
// runs past the end, is compressed or is too long.
size_t wire_name_len(std::string_view s, size_t pos) {
    size_t p = pos;
    while (p < s.size()) {
        const uint8_t len = static_cast<uint8_t>(s[p]);
        if (len == 0) return (p + 1 - pos) <= 255 ? p + 1 - pos : 0;
        if (len > 63) return 0;  // pointers and reserved label types too
        p += 1 + static_cast<size_t>(len);
    }
    return 0;
}

}  // namespace

std::optional<std::string> build_ad_query(std::string_view name, uint16_t type, uint16_t id) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    std::string q;
    put16(q, id);
    put16(q, 0x0120);  // RD (0x0100) | AD (0x0020)
    put16(q, 1);       // QDCOUNT
    put16(q, 0);       // ANCOUNT
    put16(q, 0);       // NSCOUNT
    put16(q, 1);       // ARCOUNT: the OPT record
    size_t name_len = 1;
    while (!name.empty()) {
        const size_t dot = name.find('.');
        const std::string_view label = name.substr(0, dot);
        if (label.empty() || label.size() > 63) return std::nullopt;
        name_len += 1 + label.size();
        if (name_len > 255) return std::nullopt;
        q.push_back(static_cast<char>(label.size()));
        q.append(label);
        name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
        if (dot != std::string_view::npos && name.empty()) return std::nullopt;  // "a..b" / "a.."
    }
    q.push_back('\0');
    put16(q, type);
    put16(q, 1);  // class IN
    // OPT (RFC 6891 §6.1.2): root name, TYPE 41, CLASS = UDP size,
    // TTL = ext-RCODE 0, version 0, flags DO (RFC 3225 §3), RDLEN 0.
    q.push_back('\0');
    put16(q, 41);
    put16(q, 1232);
    put16(q, 0);
    put16(q, 0x8000);
    put16(q, 0);
    return q;
}

std::optional<AdReplyHeader> parse_ad_reply(std::string_view reply, std::string_view query) {
    if (reply.size() < kHeader || query.size() < kHeader) return std::nullopt;
    if (get16(reply, 0) != get16(query, 0)) return std::nullopt;  // ID
    const uint16_t flags = get16(reply, 2);
    if ((flags & 0x8000) == 0) return std::nullopt;        // QR: must be a response
    if (((flags >> 11) & 0xF) != 0) return std::nullopt;   // opcode QUERY
    if (get16(reply, 4) != 1) return std::nullopt;         // exactly one question
    const size_t qn = wire_name_len(query, kHeader);
    if (qn == 0 || query.size() < kHeader + qn + 4) return std::nullopt;
    if (reply.size() < kHeader + qn + 4) return std::nullopt;
    for (size_t i = 0; i < qn; ++i)  // QNAME, case-insensitive (RFC 1035 §2.3.3)
        if (fold(reply[kHeader + i]) != fold(query[kHeader + i])) return std::nullopt;
    if (reply.substr(kHeader + qn, 4) != query.substr(kHeader + qn, 4)) return std::nullopt;  // QTYPE, QCLASS
    AdReplyHeader h;
    h.rcode = static_cast<uint8_t>(flags & 0xF);
    h.ad = (flags & 0x0020) != 0;
    h.truncated = (flags & 0x0200) != 0;
    return h;
}

}  // namespace mxgate::core
