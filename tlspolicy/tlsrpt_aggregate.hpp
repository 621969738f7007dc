// tlspolicy/tlsrpt_aggregate.hpp — one policy domain's TLS-RPT results for
// one UTC day, their stored form, and the RFC 8460 §4.4 JSON report built
// from them. Pure (no I/O).
//
// The courier adds one session at a time (DayResults::add); the record is
// kept in the spool's state store (relay/queue/tlsrpt_recorder.hpp) in the
// line format of encode()/decode(), which is also what `mxgate report tls`
// reads. decode() is a parser of files in the spool: it refuses anything
// malformed (nullopt) rather than guessing, and is fuzzed
// (tests/fuzz/tlsrpt_state_fuzz.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "tlspolicy/tlsrpt_result.hpp"

namespace mxgate::tlspolicy {

// RFC 8460 §4.4 "policy": what a session was checked against.
struct RptPolicy {
    RptPolicyType type = RptPolicyType::no_policy_found;
    std::vector<std::string> strings;    // MTA-STS policy lines / TLSA records
    std::vector<std::string> mx_hosts;   // MTA-STS mx patterns / the MX host (tlsa)
    auto key() const { return std::tie(type, strings, mx_hosts); }
    bool operator<(const RptPolicy& o) const { return key() < o.key(); }
    bool operator==(const RptPolicy& o) const { return key() == o.key(); }
};

// RFC 8460 §4.4 "failure-details" entry, without the count.
struct RptFailure {
    RptResult result = RptResult::validation_failure;
    std::string sending_ip;       // our address on the connection ("" = unknown)
    std::string mx_host;          // receiving-mx-hostname
    std::string receiving_ip;
    std::string reason;           // failure-reason-code
    auto key() const { return std::tie(result, sending_ip, mx_host, receiving_ip, reason); }
    bool operator<(const RptFailure& o) const { return key() < o.key(); }
};

struct RptPolicyResults {
    uint64_t successes = 0;
    std::map<RptFailure, uint64_t> failures;
    uint64_t failure_total() const;
};

struct DayResults {
    std::map<RptPolicy, RptPolicyResults> policies;
    void add(const RptPolicy& p, const Classified& c, const RptFailure& where);
    bool empty() const { return policies.empty(); }
};

// Stored form: one line per fact, tab-separated, values escaped (\t \n \\).
std::string encode(const DayResults& d);
std::optional<DayResults> decode(std::string_view text);

// Text fields are sanitised before they are stored: no control characters,
// at most 512 bytes (a hostile server's error text must not grow a report).
std::string rpt_text(std::string_view s);

struct ReportMeta {
    std::string organization;     // organization-name
    std::string contact;          // contact-info
    std::string report_id;
    int64_t start = 0;            // unix seconds, start of the UTC day
    int64_t end = 0;              // last second covered (end of day, or now for --send-now)
    std::string policy_domain;
};

// RFC 8460 §4.4 JSON (UTF-8, no insignificant whitespace).
std::string report_json(const ReportMeta& meta, const DayResults& d);

// RFC 3339 UTC "2016-04-01T00:00:00Z".
std::string rfc3339_utc(int64_t unix_seconds);
// "2016-04-01" for the UTC day containing t, and back (start of day; nullopt if malformed).
std::string utc_day(int64_t unix_seconds);
std::optional<int64_t> utc_day_start(std::string_view day);

// MTA-STS policy lines as the policy-string of RFC 8460 §4.3.1.1.
struct StsPolicy;
std::vector<std::string> sts_policy_strings(const StsPolicy& p);

}  // namespace mxgate::tlspolicy
