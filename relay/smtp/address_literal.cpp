// relay/smtp/address_literal.cpp — validates RFC 5321 §4.1.3 address
// literals ("[192.0.2.1]", "[IPv6:2001:db8::1]") and Domain syntax.
//
// SECURITY: untrusted text; pure index arithmetic inside the view.
// General-address-literals with tags other than "IPv6" are refused: no
// other tag is registered (§4.1.3), and literals are never relayed anyway.
#include <string_view>

#include "relay/smtp/ascii.hpp"
#include "relay/smtp/command.hpp"

namespace mxgate::smtp {
namespace {

// Snum = 1*3DIGIT, value 0..255; four of them separated by dots.
bool valid_ipv4(std::string_view s) {
    int parts = 0;
    size_t i = 0;
    while (true) {
        size_t digits = 0;
        int value = 0;
        while (i < s.size() && ascii::is_digit(s[i]) && digits < 4) {
            value = value * 10 + (s[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || digits > 3 || value > 255) return false;
        if (++parts == 4) return i == s.size();
        if (i >= s.size() || s[i] != '.') return false;
        ++i;
    }
}

bool is_hex(char c) { return ascii::is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Counts the 16-bit groups of a ':'-separated list of 1..4 hex digit groups,
// the last of which may be a dotted IPv4 address (worth two groups) when
// allow_v4. Returns -1 on a syntax error; an empty string is 0 groups.
int count_groups(std::string_view s, bool allow_v4) {
    if (s.empty()) return 0;
    int groups = 0;
    size_t i = 0;
    while (true) {
        const size_t start = i;
        while (i < s.size() && s[i] != ':') ++i;
        const std::string_view g = s.substr(start, i - start);
        if (i == s.size() && allow_v4 && g.find('.') != std::string_view::npos)
            return valid_ipv4(g) ? groups + 2 : -1;
        if (g.empty() || g.size() > 4) return -1;
        for (char c : g)
            if (!is_hex(c)) return -1;
        ++groups;
        if (i == s.size()) return groups;
        ++i;  // skip ':'
        if (i == s.size()) return -1;  // trailing single ':'
    }
}

// IPv6-addr (RFC 5321 §4.1.3, RFC 4291 §2.2): eight groups, or fewer with
// exactly one "::" standing for at least one zero group.
bool valid_ipv6(std::string_view s) {
    const size_t dc = s.find("::");
    if (dc == std::string_view::npos) return count_groups(s, true) == 8;
    if (s.find("::", dc + 1) != std::string_view::npos) return false;
    const std::string_view head = s.substr(0, dc), tail = s.substr(dc + 2);
    const int h = count_groups(head, false);
    const int t = count_groups(tail, true);
    return h >= 0 && t >= 0 && h + t <= 7;
}

}  // namespace

bool valid_address_literal(std::string_view lit) {
    if (lit.size() < 3 || lit.front() != '[' || lit.back() != ']') return false;
    const std::string_view inner = lit.substr(1, lit.size() - 2);
    if (ascii::istarts_with(inner, "IPv6:")) return valid_ipv6(inner.substr(5));
    return valid_ipv4(inner);
}

// Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
// (RFC 5321 §4.1.2); with utf8, labels may also hold UTF-8 (RFC 6531 §3.3
// U-label; we check well-formedness, not IDNA2008 rules). DNS limits:
// labels 1..63 octets, name <= 255 (RFC 1035 §2.3.4).
bool valid_domain(std::string_view d, bool utf8) {
    if (d.empty() || d.size() > 255) return false;
    size_t label = 0;
    for (size_t i = 0; i < d.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(d[i]);
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-') return false;
            label = 0;
            continue;
        }
        if (c >= 0x80) {
            if (!utf8) return false;
            const size_t n = utf8::sequence_length(d, i);
            if (n == 0) return false;
            i += n - 1;
            label += n;
        } else if (ascii::is_alnum(c)) {
            ++label;
        } else if (c == '-') {
            if (label == 0) return false;  // a label starts with a letter or digit
            ++label;
        } else {
            return false;
        }
        if (label > 63) return false;
    }
    return label != 0 && d.back() != '-';
}

}  // namespace mxgate::smtp
