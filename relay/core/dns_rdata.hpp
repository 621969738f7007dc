// relay/core/dns_rdata.hpp — record types and pure RDATA parsers.
//
// Included by resolver.hpp (the module's public header); split out so the
// clang fuzz build can compile dns_rdata.cpp without Boost.Asio, which is
// why this header includes nothing but the standard library.
//
// SECURITY: the parsers take attacker-controlled bytes; see dns_rdata.cpp.
// RFCs: 1035, 3596, 5952, 6698, 7505.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxgate::core {

struct MxRecord {
    uint16_t preference = 0;
    std::string host;  // lower-case, no trailing dot; "" = null MX (RFC 7505) when "."
};

struct TlsaRecord {
    uint8_t usage = 0, selector = 0, matching_type = 0;
    std::string data;  // association data bytes
};

// Pure RDATA parsers (no Asio): nullopt on malformed input.
std::optional<MxRecord> parse_mx_rdata(std::string_view rdata);
std::optional<std::string> parse_a_rdata(std::string_view rdata);
std::optional<std::string> parse_aaaa_rdata(std::string_view rdata);
std::optional<std::string> parse_txt_rdata(std::string_view rdata);
std::optional<TlsaRecord> parse_tlsa_rdata(std::string_view rdata);
// Decodes an uncompressed wire-format domain name at rdata[pos...]; advances
// pos past it on success (pos is untouched on failure). The result is
// lower-case with no trailing dot; the root name "." decodes to "".
// Only letters, digits, '-' and '_' are accepted inside labels.
std::optional<std::string> parse_wire_name(std::string_view rdata, size_t& pos);

// --- dns_message.cpp: the AD-bit probe's message codec (dnssec: trust-ad).
// A DNS query for (name, type, class IN) with RD=1, AD=1 (RFC 6840 §5.7)
// and an EDNS0 OPT record with DO=1 (RFC 3225); nullopt if the name
// cannot be encoded (empty label, label > 63 octets, name > 255 octets).
std::optional<std::string> build_ad_query(std::string_view name, uint16_t type, uint16_t id);
struct AdReplyHeader {
    uint8_t rcode = 0;   // RFC 1035 §4.1.1 (the low 4 bits; no extended RCODE)
    bool ad = false;     // RFC 4035 §3.2.3
    bool truncated = false;
};
// Checks that `reply` answers `query` (same ID, QR=1, opcode 0, the same
// single question, compared case-insensitively) and returns its header
// bits; nullopt otherwise. Reads nothing past the question section.
std::optional<AdReplyHeader> parse_ad_reply(std::string_view reply, std::string_view query);

}  // namespace mxgate::core
