// relay/client/smtp_text.hpp — the bytes the client sends: command lines,
// SASL initial responses and the dot-stuffed message (pure functions).
//
// DotStuffer turns message bytes (CRLF lines, dots unstuffed, as the spool
// keeps them) into DATA content (RFC 5321 §4.5.2: a line that starts with
// "." gets one more "."), chunk by chunk so a large body is never copied as
// a whole. finish() ends the last line if needed and adds ".\r\n".
//
// Command builders refuse an address or parameter that contains a control
// character, '<' or '>' — such text would let envelope data become a second
// command (RFC 5321 §4.1.2 paths never contain them). The spool's own parser
// already rejects them; this is the last line of defence before the wire.
//
// SECURITY: passwords pass through sasl_plain/sasl_login_*; callers must
// never log the results (STYLE §4: no secrets in traces).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::client {

class DotStuffer {
public:
    // Appends the stuffed form of `in` to `out`.
    void feed(std::string_view in, std::string& out);
    // Appends CRLF if the data did not end with one, then ".\r\n".
    void finish(std::string& out);
    bool at_line_start() const { return at_line_start_; }

private:
    bool at_line_start_ = true;
    bool ended_crlf_ = true;   // nothing fed yet counts as "after CRLF"
    bool after_cr_ = false;
};

// Convenience for tests: the whole DATA content of prepend + body.
std::string dot_stuff(std::string_view prepend, std::string_view body);

// "MAIL FROM:<sender> PARAM..." + CRLF; nullopt when sender or a parameter
// is unsafe. An empty sender is the null path "<>".
std::optional<std::string> mail_from_command(std::string_view sender,
                                             const std::vector<std::string>& params);
// "RCPT TO:<rcpt> PARAM..." + CRLF; nullopt when unsafe or empty.
std::optional<std::string> rcpt_to_command(std::string_view rcpt,
                                           const std::vector<std::string>& params);
// True when s has no control characters, '<' or '>' (and is <= 998 octets).
bool safe_path(std::string_view s);

// RFC 4648 base64 (with padding).
std::string base64_encode(std::string_view in);
// RFC 4616: base64("" NUL user NUL password).
std::string sasl_plain(std::string_view user, std::string_view password);

// Reads the first line of a password file (without CR/LF). nullopt + error
// when the file cannot be read or the line is empty.
std::optional<std::string> read_password_file(const std::string& path, std::string& error);

// True when s has bytes >= 0x80 (needs 8BITMIME or SMTPUTF8).
bool has_8bit(std::string_view s);

}  // namespace mxgate::client
