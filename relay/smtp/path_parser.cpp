// relay/smtp/path_parser.cpp — Reverse-path / Forward-path grammar
// (RFC 5321 §4.1.2, with RFC 6531 §3.3 UTF-8 extensions).
//
//   Path       = "<" [ A-d-l ":" ] Mailbox ">"
//   A-d-l      = At-domain *( "," At-domain )      ; source route, reported
//   Mailbox    = Local-part "@" ( Domain / address-literal )
//   Local-part = Dot-string / Quoted-string
//
// SECURITY: untrusted text. Every access is bounds-checked against the
// view; the decoded local part is a copy. Anything the grammar does not
// allow is an error, except the forms command.hpp lists as *reported*.
#include <string>
#include <string_view>

#include "relay/smtp/ascii.hpp"
#include "relay/smtp/command.hpp"

namespace mxgate::smtp {
namespace {

// atext (RFC 5322 §3.2.3) as used by RFC 5321 Atom.
bool is_atext(unsigned char c) {
    if (ascii::is_alnum(c)) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
        case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}':
        case '~':
            return true;
        default:
            return false;
    }
}

// The characters a Domain token may contain before validation; the token
// ends at the first other character.
bool is_domain_char(unsigned char c) { return ascii::is_alnum(c) || c == '-' || c == '.' || c >= 0x80; }

bool is_dot_string(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    for (size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '.') {
            if (s[i - 1] == '.') return false;
        } else if (!is_atext(c) && c < 0x80) {
            return false;
        }
    }
    return true;
}

struct Cursor {
    std::string_view s;
    size_t i = 0;
    bool at_end() const { return i >= s.size(); }
    unsigned char peek() const { return at_end() ? 0 : static_cast<unsigned char>(s[i]); }
};

// Reads a run of domain characters.
std::string_view domain_token(Cursor& c) {
    const size_t start = c.i;
    while (!c.at_end() && is_domain_char(c.peek())) ++c.i;
    return c.s.substr(start, c.i - start);
}

bool has_non_ascii(std::string_view s) {
    for (char ch : s)
        if (static_cast<unsigned char>(ch) >= 0x80) return true;
    return false;
}

// Local-part, decoded into out.local_part. Returns false on a syntax error.
bool parse_local_part(Cursor& c, Path& out) {
    if (c.peek() == '"') {
        // Quoted-string = DQUOTE *QcontentSMTP DQUOTE
        // qtextSMTP = %d32-33 / %d35-91 / %d93-126 / UTF8-non-ascii
        // quoted-pairSMTP = "\" %d32-126
        out.quoted_local = true;
        ++c.i;
        while (true) {
            if (c.at_end()) return false;
            const unsigned char ch = c.peek();
            if (ch == '"') {
                ++c.i;
                break;
            }
            if (ch == '\\') {
                ++c.i;
                if (c.at_end()) return false;
                const unsigned char q = c.peek();
                if (q < 32 || q > 126) return false;
                out.local_part += static_cast<char>(q);
                ++c.i;
            } else if (ch >= 0x80) {
                const size_t n = utf8::sequence_length(c.s, c.i);
                if (n == 0) return false;
                out.local_part.append(c.s.substr(c.i, n));
                c.i += n;
            } else if (ch >= 32 && ch <= 126) {
                out.local_part += static_cast<char>(ch);
                ++c.i;
            } else {
                return false;
            }
        }
        return !out.local_part.empty();  // ""@domain: legal but useless; refused
    }
    // Dot-string: atext and dots, UTF-8 allowed (RFC 6531 atext extension).
    const size_t start = c.i;
    while (!c.at_end()) {
        const unsigned char ch = c.peek();
        if (ch >= 0x80) {
            const size_t n = utf8::sequence_length(c.s, c.i);
            if (n == 0) return false;
            c.i += n;
        } else if (is_atext(ch) || ch == '.') {
            ++c.i;
        } else {
            break;
        }
    }
    out.local_part = std::string(c.s.substr(start, c.i - start));
    return is_dot_string(out.local_part);
}

}  // namespace

std::string Path::address() const {
    if (null) return {};
    if (postmaster) return "postmaster";
    std::string out;
    if (!quoted_local && is_dot_string(local_part)) {
        out = local_part;
    } else {
        out += '"';
        for (char ch : local_part) {
            if (ch == '"' || ch == '\\') out += '\\';
            out += ch;
        }
        out += '"';
    }
    if (has_at) {
        out += '@';
        out += domain;
        if (trailing_dot) out += '.';
    }
    return out;
}

ParseError parse_path(std::string_view text, bool is_mail, Path& out, std::string_view& rest,
                      std::string& detail) {
    const ParseError bad = is_mail ? ParseError::bad_sender_address : ParseError::bad_recipient_address;
    out = Path{};
    Cursor c{text};
    if (c.peek() != '<') {
        detail = "Address must be enclosed in <>";
        return bad;
    }
    ++c.i;

    // Null path "<>" (RFC 5321 §4.5.5): MAIL only.
    if (c.peek() == '>') {
        if (!is_mail) {
            detail = "Null recipient not allowed";
            return ParseError::null_recipient;
        }
        out.null = true;
        rest = text.substr(c.i + 1);
        return ParseError::none;
    }

    // A-d-l: "@" Domain *("," "@" Domain) ":" — kept and reported (§4.1.2
    // says it SHOULD be ignored; we surface it so relay policy can refuse).
    if (c.peek() == '@') {
        while (true) {
            if (c.peek() != '@') {
                detail = "Bad source route";
                return bad;
            }
            ++c.i;
            const std::string_view d = domain_token(c);
            if (!valid_domain(d, true)) {
                detail = "Bad source route domain";
                return bad;
            }
            out.route.emplace_back(d);
            if (c.peek() == ',') {
                ++c.i;
                continue;
            }
            if (c.peek() == ':') {
                ++c.i;
                break;
            }
            detail = "Bad source route";
            return bad;
        }
    }

    if (!parse_local_part(c, out)) {
        detail = "Bad local part syntax";
        return bad;
    }

    if (c.peek() == '@') {
        ++c.i;
        out.has_at = true;
        if (c.peek() == '[') {
            const size_t start = c.i;
            while (!c.at_end() && c.peek() != ']' && c.peek() != '>') ++c.i;
            if (c.peek() != ']') {
                detail = "Bad address literal";
                return bad;
            }
            ++c.i;
            out.domain = std::string(text.substr(start, c.i - start));
            if (!valid_address_literal(out.domain)) {
                detail = "Bad address literal";
                return bad;
            }
            out.address_literal = true;
        } else {
            std::string_view d = domain_token(c);
            if (!d.empty() && d.back() == '.') {
                out.trailing_dot = true;  // reported, never silently stripped
                d.remove_suffix(1);
            }
            out.domain = std::string(d);
            if (out.domain.empty()) {
                if (is_mail || out.trailing_dot) {
                    detail = "Missing domain";
                    return bad;
                }
                // "<user@>" in RCPT: reported as unqualified.
            } else if (!valid_domain(out.domain, true)) {
                detail = "Bad domain syntax";
                return bad;
            }
            if (is_mail && out.trailing_dot) {
                detail = "Bad domain syntax";
                return bad;
            }
        }
    } else if (!out.quoted_local && out.route.empty() && !is_mail &&
               ascii::iequals(out.local_part, "postmaster")) {
        out.postmaster = true;  // RFC 5321 §4.5.1: "<postmaster>" without domain
    } else if (is_mail) {
        detail = "Sender address must be fully qualified";
        return bad;
    }
    // else: "<user>" in RCPT — reported as unqualified, refused by policy.

    if (c.peek() != '>') {
        detail = "Bad address syntax";
        return bad;
    }
    ++c.i;
    out.utf8 = has_non_ascii(out.local_part) || has_non_ascii(out.domain);
    rest = text.substr(c.i);
    return ParseError::none;
}

std::optional<Path> parse_mailbox(std::string_view text) {
    std::string bracketed;
    bracketed.reserve(text.size() + 2);
    bracketed += '<';
    bracketed += text;
    bracketed += '>';
    Path p;
    std::string_view rest;
    std::string detail;
    if (parse_path(bracketed, false, p, rest, detail) != ParseError::none || !rest.empty()) return std::nullopt;
    return p;
}

}  // namespace mxgate::smtp
