// relay/spool/dsn_text.hpp — text helpers for dsn.cpp (private): dates,
// field sanitising and folding, header-section extraction, status codes.
// SECURITY: everything here handles remote-controlled text; see dsn.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mxgate::spool::dsntext {

// RFC 5322 §3.3 date-time in UTC: "Tue, 14 Nov 2023 22:13:20 +0000".
std::string rfc5322_date(int64_t unix_seconds);

// One line of text: CR/LF runs become one space, other control characters
// (and DEL) become '?'; bytes >= 0x80 are kept only when keep_utf8.
std::string one_line(std::string_view s, bool keep_utf8);

// "Name: value" folded at spaces so no line exceeds 78 characters where
// possible and 998 ever (RFC 5322 §2.1.1), CRLF-terminated.
std::string field(std::string_view name, std::string_view value);

// Plain text wrapped at spaces into CRLF-terminated lines of at most 78
// characters where possible and 998 ever (body lines, RFC 5322 §2.1.1).
std::string wrap(std::string_view text);

// The header section of a message: up to and including the CRLF ending
// its last header line; the whole text if it has no empty line.
std::string_view header_section(std::string_view message);

// The enhanced status code after a reply's 3-digit code ("550 5.1.1 x"
// → "5.1.1"), or "" if none (RFC 3463 §2, RFC 2034 §4).
std::string reply_status(std::string_view reply);
// The reply's 3-digit code, or 0.
int reply_code(std::string_view reply);

bool is_ascii(std::string_view s);

}  // namespace mxgate::spool::dsntext
