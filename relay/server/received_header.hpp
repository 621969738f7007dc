// relay/server/received_header.hpp — the Received: trace field mxgate adds
// (RFC 5321 §4.4, RFC 5322 §3.6.7). It names the protocol (RFC 3848
// keywords: SMTP, ESMTP, ESMTPS...), and the TLS version and cipher, or says
// the message arrived in plaintext (SPEC §6).
//
// SECURITY: the HELO name is peer text; it is included only after the
// parser validated it as a domain or address literal, and any character
// outside printable ASCII is replaced, so it cannot fold or inject fields.
#pragma once

#include <ctime>
#include <string>

namespace mxgate::server {

struct ReceivedInfo {
    std::string helo;          // as given, validated
    std::string client_ip;
    std::string by_host;       // our hostname
    std::string protocol;      // "ESMTPS" etc.
    std::string queue_id;
    std::string tls_version;   // empty = plaintext
    std::string tls_cipher;
    int tls_bits = 0;
    std::string for_rcpt;      // only with exactly one recipient
    std::time_t when = 0;
};

// Complete field, folded, ending in CRLF.
std::string received_header(const ReceivedInfo& r);
// RFC 5322 date-time, e.g. "Sun, 22 Nov 2026 12:00:00 +0000".
std::string rfc5322_date(std::time_t t);

}  // namespace mxgate::server
