// dmarc/report_uri.hpp — the reporting side of a DMARC record (RFC 7489
// §6.2-§6.4, §7.1): the `rua` tag's URIs with their size limits, and the
// external-destination authorisation record.
//
// Pure code, fuzzed (tests/fuzz/dmarc_rua_fuzz.cpp).
//
//   dmarc_tag(record, "rua")  the raw value of one tag of a record
//   parse_rua(value)          mailto: URIs only (others are skipped: mxgate
//                             mails its reports), each with its `!size`
//                             limit in octets (k/m/g/t are powers of 2^10)
//   parse_rua_list(value)     the same, plus what was skipped and why, so
//                             the sender can say so (an https: rua is valid
//                             DMARC, RFC 7489 §7.2.1.1 only requires mailto)
//   authorizes_reports(txts)  the TXT strings at
//                             <policy-domain>._report._dmarc.<rua-domain>
//                             contain a record starting with v=DMARC1
//
// SECURITY: the record is attacker-controlled DNS data. Addresses are
// percent-decoded and must be a plain local@domain (no header fields, no
// CR/LF, no second address): they become an envelope recipient.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::dmarc {

struct ReportUri {
    std::string address;   // local@domain, domain lower-case
    std::string domain;    // the address's domain
    uint64_t max_size = 0; // octets; 0 = no limit given
};

// RFC 7489 §6.4: at least two URIs must be honoured; more are ignored.
inline constexpr size_t kMaxReportUris = 4;

// The value of tag `name` (case-insensitive) in a tag=value; list, trimmed
// of whitespace; nullopt when absent. The first occurrence wins.
std::optional<std::string> dmarc_tag(std::string_view record, std::string_view name);

// Comma-separated dmarc-uri list → the usable mailto: destinations, in
// order, at most kMaxReportUris. Malformed URIs are skipped.
std::vector<ReportUri> parse_rua(std::string_view value);

// A rua entry that is not used: another scheme (https:, ...) or a mailto:
// mxgate cannot use. `uri` is printable ASCII, at most kMaxShownUri octets.
struct SkippedUri {
    std::string uri;
    std::string reason;
};
inline constexpr size_t kMaxShownUri = 120;

struct RuaList {
    std::vector<ReportUri> usable;    // what parse_rua() returns
    std::vector<SkippedUri> skipped;  // in order, at most kMaxReportUris
};
RuaList parse_rua_list(std::string_view value);

// One dmarc-uri (without surrounding whitespace) → a destination.
std::optional<ReportUri> parse_report_uri(std::string_view uri);

// RFC 7489 §7.1: a TXT RRset at <policy>._report._dmarc.<rua-domain>
// authorises the destination when one string starts with "v=DMARC1".
bool authorizes_reports(const std::vector<std::string>& txts);

// The name to look up for that authorisation.
std::string report_authorization_name(std::string_view policy_domain, std::string_view rua_domain);

}  // namespace mxgate::dmarc
