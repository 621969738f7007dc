// dmarc/address_parser.cpp — RFC 5322 §3.4 / §4.4 address lists.
//
// Two passes: a lexer turns the value into tokens (comments and whitespace
// dropped, remembered only as "space before"), then a small recursive-descent
// parser builds mailboxes. Nothing recurses on input depth: nested comments
// are counted, not recursed into.
#include "dmarc/address_parser.hpp"
#include "relay/core/ascii.hpp"

#include <cstdint>

namespace mxgate::dmarc {

namespace {

enum class Tok { atom, dot, qstring, dliteral, lt, gt, at, comma, semi, colon };

struct Token {
    Tok kind;
    std::string text;  // atom as written; qstring unquoted; dliteral "[...]"
    bool space_before = false;
};

bool is_wsp(unsigned char c) { return c == ' ' || c == '\t'; }

// atext (RFC 5322 §3.2.3) plus UTF-8 octets (RFC 6532 §3.2).
bool is_atext(unsigned char c) {
    if (c >= 0x80) return true;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
        case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}': case '~':
            return true;
        default:
            return false;
    }
}

bool is_ctl(unsigned char c) { return c < 32 || c == 127; }

struct Lexed {
    std::vector<Token> tokens;
    const char* error = nullptr;
};

Lexed lex(std::string_view s) {
    Lexed out;
    bool space = false;
    size_t i = 0;
    auto push = [&](Tok k, std::string text) {
        out.tokens.push_back(Token{k, std::move(text), space});
        space = false;
    };
    while (i < s.size()) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (is_wsp(c)) {
            space = true;
            ++i;
        } else if (c == '(') {
            // Comment, possibly nested; quoted-pairs inside.
            size_t depth = 0;
            for (; i < s.size(); ++i) {
                const char d = s[i];
                if (d == '\\') {
                    if (++i >= s.size()) break;
                } else if (d == '(') {
                    ++depth;
                } else if (d == ')') {
                    if (--depth == 0) break;
                } else if (d == '\0' || d == '\r' || d == '\n') {
                    out.error = "control character in comment";
                    return out;
                }
            }
            if (i >= s.size()) {
                out.error = "unterminated comment";
                return out;
            }
            ++i;
            space = true;
        } else if (c == '"') {
            std::string text;
            ++i;
            bool closed = false;
            for (; i < s.size(); ++i) {
                const char d = s[i];
                if (d == '\\') {
                    if (++i >= s.size()) break;
                    if (s[i] == '\0' || s[i] == '\r' || s[i] == '\n') {
                        out.error = "control character in quoted string";
                        return out;
                    }
                    text.push_back(s[i]);
                } else if (d == '"') {
                    closed = true;
                    break;
                } else if (d == '\0' || d == '\r' || d == '\n') {
                    out.error = "control character in quoted string";
                    return out;
                } else {
                    text.push_back(d);
                }
            }
            if (!closed) {
                out.error = "unterminated quoted string";
                return out;
            }
            ++i;
            push(Tok::qstring, std::move(text));
        } else if (c == '[') {
            std::string text = "[";
            ++i;
            bool closed = false;
            for (; i < s.size(); ++i) {
                const unsigned char d = static_cast<unsigned char>(s[i]);
                if (d == '\\') {
                    // obs-dtext quoted-pair: never a usable domain, and it
                    // would not survive re-rendering; refused.
                    out.error = "quoted-pair in domain literal";
                    return out;
                } else if (d == ']') {
                    closed = true;
                    break;
                } else if (d == '[') {
                    out.error = "'[' inside a domain literal";
                    return out;
                } else if (is_wsp(d)) {
                    continue;  // FWS inside a literal carries no meaning
                } else if (is_ctl(d)) {
                    out.error = "control character in domain literal";
                    return out;
                } else {
                    text.push_back(static_cast<char>(d));
                }
            }
            if (!closed) {
                out.error = "unterminated domain literal";
                return out;
            }
            ++i;
            text.push_back(']');
            push(Tok::dliteral, std::move(text));
        } else if (is_atext(c)) {
            const size_t start = i;
            while (i < s.size() && is_atext(static_cast<unsigned char>(s[i]))) ++i;
            push(Tok::atom, std::string(s.substr(start, i - start)));
        } else {
            Tok k;
            switch (c) {
                case '.': k = Tok::dot; break;
                case '<': k = Tok::lt; break;
                case '>': k = Tok::gt; break;
                case '@': k = Tok::at; break;
                case ',': k = Tok::comma; break;
                case ';': k = Tok::semi; break;
                case ':': k = Tok::colon; break;
                default:
                    out.error = c == ')' ? "unbalanced ')'"
                              : c == ']' ? "unbalanced ']'"
                              : c == '\\' ? "'\\' outside a quoted string"
                                          : "character not allowed in an address";
                    return out;
            }
            ++i;
            push(k, {});
        }
    }
    return out;
}

bool needs_quotes(std::string_view local) {
    if (local.empty() || local.front() == '.' || local.back() == '.') return true;
    char prev = 0;
    for (const char c : local) {
        if (c == '.' && prev == '.') return true;
        if (c != '.' && !is_atext(static_cast<unsigned char>(c))) return true;
        prev = c;
    }
    return false;
}

int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// One RFC 2047 encoded word; nullopt when `w` is not a valid one.
std::optional<std::string> decode_word(std::string_view w) {
    if (w.size() < 8 || w.substr(0, 2) != "=?" || w.substr(w.size() - 2) != "?=") return std::nullopt;
    const std::string_view inner = w.substr(2, w.size() - 4);
    const size_t q1 = inner.find('?');
    if (q1 == std::string_view::npos || q1 == 0) return std::nullopt;
    const size_t q2 = inner.find('?', q1 + 1);
    if (q2 != q1 + 2) return std::nullopt;
    const char enc = inner[q1 + 1];
    const std::string_view text = inner.substr(q2 + 1);
    if (text.find('?') != std::string_view::npos) return std::nullopt;
    std::string out;
    if (enc == 'Q' || enc == 'q') {
        for (size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '_') {
                out.push_back(' ');
            } else if (text[i] == '=') {
                if (i + 2 >= text.size()) return std::nullopt;
                const int h = core::ascii::hex_digit(text[i + 1]);
                const int l = core::ascii::hex_digit(text[i + 2]);
                if (h < 0 || l < 0) return std::nullopt;
                out.push_back(static_cast<char>(h * 16 + l));
                i += 2;
            } else {
                out.push_back(text[i]);
            }
        }
        return out;
    }
    if (enc == 'B' || enc == 'b') {
        uint32_t acc = 0;
        int bits = 0;
        size_t pad = 0;
        for (const char c : text) {
            if (c == '=') {
                ++pad;
                continue;
            }
            if (pad) return std::nullopt;  // data after padding
            const int v = b64_value(c);
            if (v < 0) return std::nullopt;
            acc = (acc << 6) | static_cast<uint32_t>(v);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out.push_back(static_cast<char>((acc >> bits) & 0xFF));
            }
        }
        if ((text.size() % 4) != 0 || pad > 2) return std::nullopt;
        return out;
    }
    return std::nullopt;
}

class Parser {
public:
    explicit Parser(std::vector<Token> t) : t_(std::move(t)) {}

    AddressParse run() {
        AddressParse r;
        AddressList list;
        while (true) {
            while (at(Tok::comma)) ++i_;  // obs-addr-list: empty elements
            if (i_ >= t_.size()) break;
            if (!address(list)) {
                r.error.reason = err_;
                return r;
            }
            if (i_ >= t_.size()) break;
            if (!at(Tok::comma)) {
                r.error.reason = "expected ',' between addresses";
                return r;
            }
        }
        r.list = std::move(list);
        return r;
    }

private:
    std::vector<Token> t_;
    size_t i_ = 0;
    const char* err_ = "";

    bool at(Tok k) const { return i_ < t_.size() && t_[i_].kind == k; }
    bool fail(const char* why) {
        err_ = why;
        return false;
    }
    static bool is_word(Tok k) { return k == Tok::atom || k == Tok::qstring; }

    // The first structural token from the current position: decides which
    // production the next address is.
    Tok lookahead_marker(bool& found) const {
        for (size_t j = i_; j < t_.size(); ++j) {
            const Tok k = t_[j].kind;
            if (k == Tok::lt || k == Tok::colon || k == Tok::at || k == Tok::comma || k == Tok::semi || k == Tok::gt) {
                found = true;
                return k;
            }
        }
        found = false;
        return Tok::comma;
    }

    bool address(AddressList& list) {
        bool found = false;
        const Tok m = lookahead_marker(found);
        if (found && m == Tok::colon) return group(list);
        Mailbox mb;
        if (!mailbox(mb)) return false;
        list.mailboxes.push_back(std::move(mb));
        return true;
    }

    bool group(AddressList& list) {
        std::string name;
        if (!phrase(name, Tok::colon)) return false;
        ++i_;  // ':'
        ++list.groups;
        while (true) {
            while (at(Tok::comma)) ++i_;
            if (at(Tok::semi)) {
                ++i_;
                return true;
            }
            if (i_ >= t_.size()) return fail("group without ';'");
            bool found = false;
            if (lookahead_marker(found) == Tok::colon && found) return fail("group inside a group");
            Mailbox mb;
            mb.in_group = true;
            if (!mailbox(mb)) return false;
            list.mailboxes.push_back(std::move(mb));
            if (at(Tok::semi)) continue;
            if (!at(Tok::comma)) return fail("expected ',' or ';' in a group");
        }
    }

    bool mailbox(Mailbox& mb) {
        bool found = false;
        const Tok m = lookahead_marker(found);
        if (found && m == Tok::lt) {
            if (!phrase(mb.display_name, Tok::lt)) return false;
            ++i_;  // '<'
            if (at(Tok::at) && !route()) return false;
            if (!addr_spec(mb)) return false;
            if (!at(Tok::gt)) return fail("expected '>'");
            ++i_;
            return true;
        }
        if (!found || m != Tok::at) return fail("mailbox without '@domain'");
        return addr_spec(mb);
    }

    // obs-route: 1*("," / "@" domain) ":" — the route is dropped.
    bool route() {
        while (true) {
            if (at(Tok::at)) {
                ++i_;
                Mailbox ignored;
                if (!domain(ignored)) return false;
            } else if (at(Tok::comma)) {
                ++i_;
            } else if (at(Tok::colon)) {
                ++i_;
                return true;
            } else {
                return fail("bad route in angle address");
            }
        }
    }

    // Display name: words (and obs dots) up to `end`; encoded words decoded.
    bool phrase(std::string& out, Tok end) {
        const size_t start = i_;
        bool prev_encoded = false;
        while (i_ < t_.size() && t_[i_].kind != end) {
            const Token& tok = t_[i_];
            if (!is_word(tok.kind) && tok.kind != Tok::dot) return fail("unexpected character in display name");
            std::optional<std::string> decoded;
            if (tok.kind == Tok::atom) decoded = decode_word(tok.text);
            const bool encoded = decoded.has_value();
            // RFC 2047 §6.2: whitespace between adjacent encoded words is dropped.
            if (tok.space_before && i_ > start && !(encoded && prev_encoded)) out.push_back(' ');
            if (tok.kind == Tok::dot)
                out.push_back('.');
            else
                out += encoded ? *decoded : tok.text;
            prev_encoded = encoded;
            ++i_;
        }
        if (i_ >= t_.size()) return fail("truncated address");
        if (end == Tok::colon && i_ == start) return fail("group without a name");
        return true;
    }

    bool addr_spec(Mailbox& mb) {
        // local-part = word *("." word); runs of dots tolerated (obs, harmless: DMARC uses the domain).
        if (!(i_ < t_.size() && is_word(t_[i_].kind))) return fail("missing local part");
        std::string local = t_[i_++].text;
        while (at(Tok::dot)) {
            ++i_;
            local.push_back('.');
            if (i_ < t_.size() && is_word(t_[i_].kind)) local += t_[i_++].text;
        }
        if (!at(Tok::at)) return fail("expected '@'");
        ++i_;
        mb.local_part = std::move(local);
        return domain(mb);
    }

    bool domain(Mailbox& mb) {
        if (at(Tok::dliteral)) {
            mb.domain = t_[i_++].text;
            mb.domain_literal = true;
            return true;
        }
        if (!at(Tok::atom)) return fail("missing domain");
        std::string d = t_[i_++].text;
        while (at(Tok::dot)) {
            ++i_;
            if (!at(Tok::atom)) return fail("empty label in domain");
            d.push_back('.');
            d += t_[i_++].text;
        }
        mb.domain = std::move(d);
        mb.domain_literal = false;
        return true;
    }
};

}  // namespace

std::string Mailbox::address() const {
    std::string out;
    if (needs_quotes(local_part)) {
        out.push_back('"');
        for (const char c : local_part) {
            if (c == '"' || c == '\\') out.push_back('\\');
            out.push_back(c);
        }
        out.push_back('"');
    } else {
        out = local_part;
    }
    out.push_back('@');
    out += domain;
    return out;
}

std::string Mailbox::domain_lower() const {
    std::string d = domain;
    for (char& c : d) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    return d;
}

AddressParse parse_address_list(std::string_view value) {
    Lexed lx = lex(value);
    if (lx.error) {
        AddressParse r;
        r.error.reason = lx.error;
        return r;
    }
    Parser p(std::move(lx.tokens));
    return p.run();
}

std::string decode_encoded_words(std::string_view phrase) {
    std::string out;
    size_t i = 0;
    bool prev_encoded = false;
    std::string pending_space;
    while (i < phrase.size()) {
        if (is_wsp(static_cast<unsigned char>(phrase[i]))) {
            pending_space.push_back(phrase[i++]);
            continue;
        }
        const size_t start = i;
        while (i < phrase.size() && !is_wsp(static_cast<unsigned char>(phrase[i]))) ++i;
        const std::string_view word = phrase.substr(start, i - start);
        const auto decoded = decode_word(word);
        if (!(decoded && prev_encoded)) out += pending_space;
        pending_space.clear();
        out += decoded ? *decoded : std::string(word);
        prev_encoded = decoded.has_value();
    }
    out += pending_space;
    return out;
}

}  // namespace mxgate::dmarc
