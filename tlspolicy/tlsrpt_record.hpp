// tlspolicy/tlsrpt_record.hpp — the TLS-RPT policy record (RFC 8460 §3),
// published as TXT at _smtp._tls.<policy domain>. Pure (no Asio, no I/O):
// fuzzed by tests/fuzz/tlsrpt_record_fuzz.cpp.
//
// SECURITY: the TXT text is attacker-controlled. Only mailto: and https:
// report URIs are returned (RFC 8460 §3), each at most 2048 octets, at most
// 16 of them, with no control characters or spaces; anything else makes the
// record invalid (no report is sent, rather than one to a mangled address).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::tlspolicy {

struct TlsRptRecord {
    std::vector<std::string> rua;   // "mailto:..." / "https://..." as written (scheme lower-cased)
};

// One TXT record's text (strings already joined). nullopt + error when it
// is not a valid TLSRPTv1 record.
std::optional<TlsRptRecord> parse_tlsrpt_record(std::string_view txt, std::string& error);

// All TXT records at _smtp._tls.<domain>: those not starting with
// "v=TLSRPTv1" are ignored; exactly one must remain (RFC 8460 §3: otherwise
// the domain does not implement TLS-RPT).
std::optional<TlsRptRecord> select_tlsrpt_record(const std::vector<std::string>& txts, std::string& error);

// For a mailto: URI: the address (percent-decoded, without "?..." headers);
// "" if the URI is not a usable mailto:.
std::string tlsrpt_mailto_address(std::string_view uri);

// For an https: URI (RFC 8460 §3: where reports are POSTed): host
// (lower-case DNS name; no IP literals, no userinfo), port (default 443)
// and target (path + query, "/" when empty; no fragment). nullopt when the
// URI is not of that form.
struct HttpsUri {
    std::string host;
    uint16_t port = 443;
    std::string target = "/";
};
std::optional<HttpsUri> tlsrpt_https_uri(std::string_view uri);

}  // namespace mxgate::tlspolicy
