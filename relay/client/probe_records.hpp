// relay/client/probe_records.hpp — pure parsers for what `mxgate probe
// --domain` reads from DNS and HTTPS: the MTA-STS TXT record and policy
// (RFC 8461 §3.1, §3.2, §4.1) and the policy fetch's HTTP response. The
// TLS-RPT record is parsed by tlspolicy/tlsrpt_record.hpp.
//
// XXX The outbound MTA-STS level has (or will have) its own parser in
// tlspolicy/; when it lands, the probe should use it and these two
// functions go. Until then this small one keeps `probe` independent.
//
// SECURITY: all input is attacker-controlled (DNS, a web server). Pure, no
// I/O, bounded by the input; fuzzed (tests/fuzz/probe_records_fuzz.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::client::probe {

struct StsRecord {
    std::string id;  // 1..32 alphanumerics
};
// One TXT string (the strings of one record joined). nullopt + error when
// it starts with "v=STSv1" but is malformed; nullopt + empty error when it
// is not an MTA-STS record at all (other TXT records live there too).
std::optional<StsRecord> parse_sts_txt(std::string_view txt, std::string& error);

struct StsPolicy {
    std::string mode;                 // enforce | testing | none
    std::vector<std::string> mx;      // patterns, lower-case ("*.example.net" allowed)
    uint32_t max_age = 0;             // seconds, <= 31557600
};
// The policy body (CRLF or LF lines of "key: value"). nullopt + error when
// invalid; unknown keys are ignored (§3.2 extensibility).
std::optional<StsPolicy> parse_sts_policy(std::string_view body, std::string& error);
// §4.1: "mx.example.net" matches exactly; "*.example.net" matches one extra
// left-most label. Case-insensitive, trailing dots ignored.
bool sts_mx_matches(std::string_view pattern, std::string_view host);

struct HttpResponse {
    int status = 0;
    std::string content_type;  // lower-case, parameters dropped
    std::string body;          // de-chunked
};
// A whole HTTP/1.x response as read until the server closed (we send
// "Connection: close"). Handles Content-Length and chunked bodies; at most
// max_body octets of body. nullopt + error when malformed.
std::optional<HttpResponse> parse_http_response(std::string_view raw, std::string& error,
                                                size_t max_body = 64 * 1024);

}  // namespace mxgate::client::probe
