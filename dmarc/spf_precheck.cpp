// dmarc/spf_precheck.cpp — see spf_precheck.hpp. A small recursive-descent
// checker over the RFC 7208 §12 ABNF, with mxgate's bounds.
#include "dmarc/spf_precheck.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <string>

namespace mxgate::dmarc {

namespace {

SpfPrecheck fail(std::string why) { return SpfPrecheck{false, std::move(why)}; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

// RFC 7208 §7.1 macro-string, with the bounds of the header comment.
// `explain` allows the c, r, t letters and spaces (explain-string).
// On success `last_was_macro` tells whether the string ends in a
// macro-expand (for domain-end).
SpfPrecheck check_macro_string(std::string_view s, bool explain, int& macros, bool& last_was_macro) {
    last_was_macro = false;
    for (size_t i = 0; i < s.size();) {
        const char c = s[i];
        if (c == '%') {
            if (++macros > kSpfMaxMacrosPerTerm) return fail("too many macros in one term");
            if (i + 1 >= s.size()) return fail("lone '%'");
            const char n = s[i + 1];
            if (n == '%' || n == '_' || n == '-') {
                i += 2;
                last_was_macro = true;
                continue;
            }
            if (n != '{') return fail("bad macro escape");
            size_t j = i + 2;
            if (j >= s.size()) return fail("unterminated macro");
            const char letter = lower(s[j]);
            const bool common = letter == 's' || letter == 'l' || letter == 'o' || letter == 'd' ||
                                letter == 'i' || letter == 'p' || letter == 'h' || letter == 'v';
            const bool exp_only = letter == 'c' || letter == 'r' || letter == 't';
            if (!common && !(explain && exp_only)) return fail("unknown macro letter");
            ++j;
            // transformers = *DIGIT [ "r" ]
            size_t digits = 0;
            unsigned value = 0;
            while (j < s.size() && is_digit(s[j])) {
                if (++digits > 3) return fail("macro digit transformer too long");
                value = value * 10 + static_cast<unsigned>(s[j] - '0');
                ++j;
            }
            if (digits > 0 && (value == 0 || value > 128)) return fail("macro digit transformer out of range");
            if (j < s.size() && lower(s[j]) == 'r') ++j;
            // *delimiter
            size_t delims = 0;
            while (j < s.size() && std::string_view(".-+,/_=").find(s[j]) != std::string_view::npos) {
                if (++delims > 7) return fail("too many macro delimiters");
                ++j;
            }
            if (j >= s.size() || s[j] != '}') return fail("unterminated macro");
            i = j + 1;
            last_was_macro = true;
            continue;
        }
        // macro-literal = %x21-24 / %x26-7E (and SP in explain-strings)
        const auto u = static_cast<unsigned char>(c);
        const bool literal = (u >= 0x21 && u <= 0x7e) || (explain && u == 0x20);
        if (!literal) return fail("invalid character");
        last_was_macro = false;
        ++i;
    }
    return {};
}

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view l) {
    if (l.empty() || l.size() > 63) return false;
    bool has_alpha = false;
    for (char c : l) {
        if (is_alpha(c)) has_alpha = true;
        else if (!is_digit(c) && c != '-') return false;
    }
    if (l.front() == '-' || l.back() == '-') return false;
    const bool has_dash = l.find('-') != std::string_view::npos;
    return has_alpha || has_dash;
}

// domain-spec = macro-string domain-end
// domain-end  = ( "." toplabel [ "." ] ) / macro-expand
SpfPrecheck check_domain_spec(std::string_view s, int& macros) {
    if (s.empty()) return fail("empty domain-spec");
    bool ends_in_macro = false;
    if (auto r = check_macro_string(s, false, macros, ends_in_macro); !r.ok) return r;
    if (ends_in_macro) return {};
    std::string_view t = s;
    if (!t.empty() && t.back() == '.') t.remove_suffix(1);
    const size_t dot = t.rfind('.');
    if (dot == std::string_view::npos) return fail("domain-spec without a top label");
    if (!is_toplabel(t.substr(dot + 1))) return fail("domain-spec ends in an invalid top label");
    return {};
}

// "/" ("0" / %x31-39 0*1DIGIT) for ip4 (0..32), up to 3 digits for ip6 (0..128).
bool parse_cidr(std::string_view& s, unsigned max) {
    if (s.empty() || s.front() != '/') return false;
    s.remove_prefix(1);
    size_t n = 0;
    unsigned v = 0;
    while (n < s.size() && is_digit(s[n]) && n < 3) v = v * 10 + static_cast<unsigned>(s[n++] - '0');
    if (n == 0 || (n > 1 && s[0] == '0') || v > max) return false;
    s.remove_prefix(n);
    return true;
}

// [ ip4-cidr-length ] [ "/" ip6-cidr-length ] at the end of a, mx terms.
bool check_dual_cidr(std::string_view s) {
    if (s.empty()) return true;
    if (s.size() >= 2 && s[0] == '/' && s[1] == '/') {
        s.remove_prefix(1);
        return parse_cidr(s, 128) && s.empty();
    }
    if (!parse_cidr(s, 32)) return false;
    if (s.empty()) return true;
    if (s.size() < 2 || s[0] != '/' || s[1] != '/') return false;
    s.remove_prefix(1);
    return parse_cidr(s, 128) && s.empty();
}

// Splits "a:dom/24//64" style arguments: the CIDR suffix starts at the
// first '/' that is followed only by digits and slashes.
size_t cidr_start(std::string_view s) {
    size_t i = s.size();
    while (i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '/')) --i;
    const size_t slash = s.find('/', i);
    return slash == std::string_view::npos ? s.size() : slash;
}

bool valid_ip(std::string_view ip, int family) {
    if (ip.empty() || ip.size() > 45) return false;
    // inet_pton stops at a NUL: check every octet first (found by the fuzzer).
    for (char c : ip)
        if (!is_digit(c) && !(lower(c) >= 'a' && lower(c) <= 'f') && c != ':' && c != '.') return false;
    char buf[64];
    ip.copy(buf, ip.size());
    buf[ip.size()] = '\0';
    unsigned char out[16];
    return inet_pton(family, buf, out) == 1;
}

SpfPrecheck check_term(std::string_view term, bool& saw_redirect, bool& saw_exp) {
    if (term.size() > kSpfMaxTerm) return fail("term too long");
    int macros = 0;
    // Modifier: name "=" macro-string; name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
    size_t name_end = 0;
    while (name_end < term.size() &&
           (is_alnum(term[name_end]) || term[name_end] == '-' || term[name_end] == '_' || term[name_end] == '.'))
        ++name_end;
    if (name_end > 0 && name_end < term.size() && term[name_end] == '=' && is_alpha(term[0])) {
        const std::string_view name = term.substr(0, name_end);
        const std::string_view value = term.substr(name_end + 1);
        if (iequals(name, "redirect") || iequals(name, "exp")) {
            bool& seen = iequals(name, "redirect") ? saw_redirect : saw_exp;
            if (seen) return fail("duplicate modifier");  // RFC 7208 §6
            seen = true;
            return check_domain_spec(value, macros);
        }
        bool ignored = false;
        return check_macro_string(value, false, macros, ignored);
    }
    // Directive: [qualifier] mechanism
    std::string_view m = term;
    if (!m.empty() && std::string_view("+-?~").find(m.front()) != std::string_view::npos) m.remove_prefix(1);
    size_t n = 0;
    while (n < m.size() && is_alnum(m[n])) ++n;
    const std::string_view mech = m.substr(0, n);
    std::string_view rest = m.substr(n);
    if (iequals(mech, "all")) {
        return rest.empty() ? SpfPrecheck{} : fail("'all' takes no argument");
    }
    if (iequals(mech, "include") || iequals(mech, "exists")) {
        if (rest.empty() || rest.front() != ':') return fail("mechanism needs a domain");
        return check_domain_spec(rest.substr(1), macros);
    }
    if (iequals(mech, "a") || iequals(mech, "mx")) {
        const size_t c = cidr_start(rest);
        if (!check_dual_cidr(rest.substr(c))) return fail("invalid CIDR length");
        rest = rest.substr(0, c);
        if (rest.empty()) return {};
        if (rest.front() != ':') return fail("invalid mechanism argument");
        return check_domain_spec(rest.substr(1), macros);
    }
    if (iequals(mech, "ptr")) {
        if (rest.empty()) return {};
        if (rest.front() != ':') return fail("invalid mechanism argument");
        return check_domain_spec(rest.substr(1), macros);
    }
    if (iequals(mech, "ip4") || iequals(mech, "ip6")) {
        const bool v4 = iequals(mech, "ip4");
        if (rest.empty() || rest.front() != ':') return fail("ip mechanism needs an address");
        rest.remove_prefix(1);
        const size_t slash = rest.find('/');
        std::string_view cidr = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
        if (!valid_ip(rest.substr(0, slash), v4 ? AF_INET : AF_INET6)) return fail("invalid IP address");
        if (!cidr.empty() && !(parse_cidr(cidr, v4 ? 32 : 128) && cidr.empty())) return fail("invalid CIDR length");
        return {};
    }
    return fail("unknown mechanism");
}

}  // namespace

bool is_spf_record(std::string_view txt) {
    if (txt.size() < 6 || !iequals(txt.substr(0, 6), "v=spf1")) return false;
    return txt.size() == 6 || txt[6] == ' ';
}

SpfPrecheck precheck_spf_record(std::string_view record) {
    if (record.size() > kSpfMaxRecord) return fail("record too long");
    if (!is_spf_record(record)) return fail("not an SPF record");
    std::string_view rest = record.substr(6);
    bool saw_redirect = false, saw_exp = false;
    size_t terms = 0;
    while (!rest.empty()) {
        if (rest.front() != ' ') return fail("invalid character");  // only SP separates terms (§12)
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        if (rest.empty()) break;
        const size_t end = rest.find(' ');
        const std::string_view term = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
        if (++terms > kSpfMaxTerms) return fail("too many terms");
        if (auto r = check_term(term, saw_redirect, saw_exp); !r.ok) return r;
    }
    return {};
}

SpfPrecheck precheck_explanation(std::string_view text) {
    if (text.size() > kSpfMaxExplanation) return fail("explanation too long");
    int macros = 0;
    bool ignored = false;
    return check_macro_string(text, true, macros, ignored);
}

SpfPrecheck precheck_domain(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.empty() || name.size() > 253) return fail("domain length");
    size_t labels = 0;
    size_t start = 0;
    for (;;) {
        const size_t dot = name.find('.', start);
        const std::string_view label = name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
        if (label.empty() || label.size() > 63) return fail("domain label length");
        for (char c : label)
            if (!is_alnum(c) && c != '-' && c != '_') return fail("domain character");
        ++labels;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (labels < 2) return fail("not a multi-label domain");  // RFC 7208 §4.3
    return {};
}

SpfPrecheck precheck_local_part(std::string_view local) {
    if (local.empty() || local.size() > 64) return fail("local-part length");
    for (char c : local) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e) return fail("local-part character");
    }
    return {};
}

}  // namespace mxgate::dmarc
