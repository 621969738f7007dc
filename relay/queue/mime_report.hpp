// relay/queue/mime_report.hpp — the MIME form of a report mxgate mails:
// a short text part plus one base64 attachment. Pure (no I/O).
//
//   kind mixed  — multipart/mixed (DMARC aggregate reports, RFC 7489 §7.2.1.1)
//   kind tlsrpt — multipart/report; report-type=tlsrpt with the
//                 TLS-Report-Domain / TLS-Report-Submitter header fields
//                 (RFC 8460 §5.3)
//
// Header fields: From, To, Subject, Date, Message-ID, MIME-Version (+ the
// TLS-RPT pair). Header values are made single-line (CR/LF and controls
// never reach the header section) and folded; the attachment is base64 in
// 76-character lines, so the message is 7-bit clean whatever it carries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mxgate::queue {

enum class ReportMimeKind { mixed, tlsrpt };

struct ReportMime {
    ReportMimeKind kind = ReportMimeKind::mixed;
    std::string from;                    // address only ("reports@example.org")
    std::vector<std::string> to;         // addresses
    std::string subject;
    int64_t date = 0;                    // unix seconds
    std::string message_id;              // without <>; "" = generated from date + hostname
    std::string hostname;                // right-hand side of a generated Message-ID
    std::string text;                    // the human-readable part (UTF-8 allowed, sent as 8bit if needed)
    std::string attachment;              // raw bytes
    std::string attachment_type;         // "application/tlsrpt+gzip", "application/gzip"
    std::string attachment_name;         // filename= of the attachment
    // tlsrpt only (RFC 8460 §5.3)
    std::string tls_report_domain;       // the policy domain
    std::string tls_report_submitter;    // our organisation's domain
};

// The whole message, CRLF lines, ready for queue_local_message().
std::string build_report_mime(const ReportMime& m);

// `bytes` random octets as lower-case hex (MIME boundaries, report ids).
std::string random_hex(size_t bytes);

// RFC 2045 §6.8 base64 in lines of at most 76 characters, CRLF-terminated.
std::string base64_lines(const std::string& bytes);

}  // namespace mxgate::queue
