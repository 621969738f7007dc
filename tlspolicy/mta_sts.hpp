// tlspolicy/mta_sts.hpp — MTA-STS (RFC 8461) pure parts: the `_mta-sts` TXT
// record, the policy file, MX pattern matching and the cache record format.
// No I/O here (fuzzed: tests/fuzz/mta_sts_*). The HTTPS fetch and the cache
// live in mta_sts_fetch.cpp / mta_sts_cache.cpp (outbound_policy.hpp).
//
// SECURITY: TXT records and policy bodies are attacker-controlled (the DNS
// answer and the HTTPS body of a domain we deliver to). Parsing is strict:
// anything the RFC's ABNF does not allow makes the record or the policy
// invalid, and an invalid policy is never half-applied.
// RFCs: 8461 §3.1 (TXT), §3.2 (policy), §4.1 (MX matching), §3.3 (fetch).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::tlspolicy {

// The `v=STSv1; id=...` record (RFC 8461 §3.1).
struct StsRecord {
    std::string id;  // 1..32 alphanumerics
};
// One TXT record's text (character-strings already joined). nullopt when it
// is not a syntactically valid STSv1 record.
std::optional<StsRecord> parse_sts_txt(std::string_view text);
// All TXT records at _mta-sts.<domain>: records not starting with "v=STSv1"
// are ignored; zero or several STSv1 records, or an invalid one, mean "no
// policy available" (nullopt), as §3.1 says.
std::optional<StsRecord> select_sts_record(const std::vector<std::string>& txts);

enum class StsMode { enforce, testing, none };
const char* sts_mode_name(StsMode m);

struct StsPolicy {
    StsMode mode = StsMode::none;
    std::vector<std::string> mx;   // lower-case patterns: "mx.example.com", "*.example.net"
    int64_t max_age = 0;           // seconds, 0..31557600
};
// The policy body (RFC 8461 §3.2). Lines end in CRLF or LF; "key: value".
// Required: version (STSv1), mode, max_age; mx at least once unless mode
// none. Unknown keys are ignored (extensions); a duplicated version, mode
// or max_age, an invalid value, or a line that is not "key: value" makes
// the whole policy invalid (nullopt, error says why).
std::optional<StsPolicy> parse_sts_policy(std::string_view body, std::string& error);

// §4.1: "mx.example.com" matches itself only; "*.example.com" matches
// exactly one extra left-most label. Case-insensitive; trailing dots ignored.
bool sts_mx_pattern_matches(std::string_view pattern, std::string_view host);
bool sts_policy_allows_mx(const StsPolicy& p, std::string_view host);

// What the cache keeps per policy domain (a StateStore value).
struct StsCacheEntry {
    std::string id;          // TXT id the policy was fetched for
    int64_t fetched = 0;     // unix seconds
    std::string body;        // the policy text as served (re-parsed on load)
    StsPolicy policy;
    int64_t expires() const { return fetched + policy.max_age; }
};
std::string serialize_cache_entry(const StsCacheEntry& e);
std::optional<StsCacheEntry> parse_cache_entry(std::string_view text);

}  // namespace mxgate::tlspolicy
