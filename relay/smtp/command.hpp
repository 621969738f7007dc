// relay/smtp/command.hpp — one SMTP command line → a typed Command.
//
// Interface: parse_command(line) takes a line from LineFramer (no CRLF) and
// returns a ParseResult: either a Command (verb plus verb-specific, already
// validated arguments) or a ParseError with a short detail text. Map errors
// to replies with parse_error_reply() (replies.hpp), never by hand.
//
// What is parsed, and where the grammar comes from:
//   HELO/EHLO  Domain or address-literal (RFC 5321 §4.1.1.1)
//   MAIL/RCPT  "FROM:"/"TO:" Path [SP params] (§4.1.2, §3.3); a space after
//              the colon is tolerated as Postfix does, an unbracketed path
//              is not. "<>" only for MAIL; "<postmaster>" only for RCPT.
//              ESMTP parameters per RFC 1870 (SIZE), RFC 6152 (BODY),
//              RFC 6531 (SMTPUTF8), RFC 3461 (RET, ENVID, NOTIFY, ORCPT),
//              RFC 8689 (REQUIRETLS, MAIL only, no value).
//   BDAT       chunk-size [SP "LAST"] (RFC 3030 §2)
//   ETRN       domain | "@"domain | "#"queue (RFC 1985 §5)
//   AUTH       mechanism [SP initial-response], split only (RFC 4954 §4)
//   DATA RSET QUIT STARTTLS  no argument; NOOP HELP  optional free text;
//   VRFY EXPN  required free text.
//
// Deliberate leniencies, each *reported* rather than hidden, so relay
// policy can refuse them (address_class.hpp): a source route "@a,@b:"
// (Path::route), a trailing dot on the domain (Path::trailing_dot), and,
// in RCPT only, a mailbox without domain ("<user>", "<user@>"). Non-ASCII
// (UTF-8) in an address is accepted when well-formed and flagged in
// Path::utf8: only meaningful with SMTPUTF8 (RFC 6531 §3.3), the session
// decides.
//
// SECURITY: the line is untrusted peer text. The parser only indexes inside
// it, copies what it keeps, and bounds every numeric value (SIZE, BDAT).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mxgate::smtp {

enum class Verb { helo, ehlo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, expn, help, starttls, auth, etrn, unknown };

// Upper-case name ("MAIL"), "unknown" for Verb::unknown.
std::string_view verb_name(Verb v);

// A parsed Reverse-path or Forward-path (RFC 5321 §4.1.2).
struct Path {
    bool null = false;                 // "<>" (MAIL only)
    bool postmaster = false;           // "<postmaster>" without domain (RCPT only, §4.5.1)
    std::vector<std::string> route;    // source route "@a,@b:" domains, as written; non-empty = reported
    std::string local_part;            // decoded: quotes and quoted-pair backslashes removed
    bool quoted_local = false;         // local part was a Quoted-string
    bool has_at = false;               // an "@" separated local part and domain
    std::string domain;                // as written (no brackets removed), without a trailing dot
    bool trailing_dot = false;         // domain was written "example.org."
    bool address_literal = false;      // domain is "[...]" (§4.1.3)
    bool utf8 = false;                 // non-ASCII octets in local part or domain (RFC 6531)

    bool has_route() const { return !route.empty(); }
    // local@domain with the local part re-quoted if needed; "" for null,
    // "postmaster" for the bare postmaster form.
    std::string address() const;
};

enum class BodyType { none, seven_bit, eight_bit_mime };
enum class RetType { none, full, hdrs };

// ESMTP parameters of MAIL or RCPT. `all` maps the upper-cased keyword to its
// value as written ("" for a keyword without value); the typed fields are
// the validated, decoded forms of the parameters mxgate understands.
struct Params {
    std::map<std::string, std::string> all;
    std::optional<uint64_t> size;      // SIZE=  (MAIL; RFC 1870)
    BodyType body = BodyType::none;    // BODY=  (MAIL; RFC 6152)
    bool smtputf8 = false;             // SMTPUTF8 (MAIL; RFC 6531)
    RetType ret = RetType::none;       // RET=   (MAIL; RFC 3461)
    std::optional<std::string> envid;  // ENVID= xtext as written (MAIL)
    std::vector<std::string> notify;   // NOTIFY= upper-cased items (RCPT)
    std::optional<std::string> orcpt;  // ORCPT= addr-type;xtext as written (RCPT)
    bool requiretls = false;           // REQUIRETLS (MAIL; RFC 8689 §2, no value)
};

struct HeloArgs {
    std::string domain;        // as written; for a literal, including brackets
    bool address_literal = false;
};

struct PathArgs {              // MAIL FROM / RCPT TO
    Path path;
    Params params;
};

struct BdatArgs {
    uint64_t size = 0;
    bool last = false;
};

struct AuthArgs {
    std::string mechanism;                     // upper-cased
    std::optional<std::string> initial_response;  // as written; "=" means empty
};

struct EtrnArgs {
    enum class Kind { domain, subdomains, queue };  // "d", "@d", "#q"
    Kind kind = Kind::domain;
    std::string name;          // without the "@"/"#" prefix
};

struct TextArgs {              // VRFY, EXPN, HELP, NOOP: free text (may be empty for HELP/NOOP)
    std::string text;
};

using CommandArgs = std::variant<std::monostate, HeloArgs, PathArgs, BdatArgs, AuthArgs, EtrnArgs, TextArgs>;

struct Command {
    Verb verb = Verb::unknown;
    CommandArgs args;
};

enum class ParseError {
    none,
    unknown_command,          // 500 5.5.1
    missing_argument,         // 501 5.5.4
    unexpected_argument,      // 501 5.5.4
    bad_syntax,               // 501 5.5.4  (e.g. "MAIL FROM" without colon, bad BDAT size)
    bad_sender_address,       // 501 5.1.7  (RFC 3463: bad sender's mailbox syntax)
    bad_recipient_address,    // 501 5.1.3  (bad destination mailbox syntax)
    bad_domain,               // 501 5.5.4  (HELO/EHLO/ETRN argument)
    null_recipient,           // 501 5.1.3  (RCPT TO:<>)
    unknown_parameter,        // 555 5.5.4  (RFC 5321 §4.1.1.11)
    parameter_not_allowed,    // 555 5.5.4  (e.g. NOTIFY on MAIL)
    bad_parameter_value,      // 501 5.5.4
    duplicate_parameter,      // 501 5.5.4
};

struct ParseResult {
    Command command;                   // verb is set even on error (when recognised)
    ParseError error = ParseError::none;
    std::string detail;                // short English reason, safe to put in a reply
    bool ok() const { return error == ParseError::none; }
};

// Parses one command line (without CRLF).
ParseResult parse_command(std::string_view line);

// Lower-level entry points, also used by address_class and the fuzzers.
// parse_path: text starting at '<' up to and including the matching '>'.
// `rest` receives what follows the '>'. For MAIL (allow_null) "<>" is
// accepted and unqualified mailboxes are refused; for RCPT (!allow_null)
// "<postmaster>" and the reported unqualified forms are accepted.
ParseError parse_path(std::string_view text, bool is_mail, Path& out, std::string_view& rest, std::string& detail);

// A bare mailbox "local@domain" (no angle brackets), same rules as RCPT.
std::optional<Path> parse_mailbox(std::string_view text);

// Domain (RFC 5321 §4.1.2) — LDH labels, each 1..63 octets, total <= 255;
// utf8 = allow well-formed non-ASCII labels (RFC 6531 U-labels).
bool valid_domain(std::string_view d, bool utf8);
// address-literal including brackets (RFC 5321 §4.1.3).
bool valid_address_literal(std::string_view lit);

}  // namespace mxgate::smtp
