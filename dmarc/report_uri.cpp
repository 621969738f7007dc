// dmarc/report_uri.cpp — see report_uri.hpp.
#include "dmarc/report_uri.hpp"

#include "relay/core/ascii.hpp"

namespace mxgate::dmarc {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    return s;
}

// RFC 3986 percent-decoding; nullopt for a broken escape.
std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        const int hi = core::ascii::hex_digit(s[i + 1]), lo = core::ascii::hex_digit(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// RFC 5322 atext plus '.', as a dot-atom (no leading/trailing/double dot).
bool local_part_ok(std::string_view l) {
    if (l.empty() || l.size() > 64 || l.front() == '.' || l.back() == '.') return false;
    static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~.";
    char prev = 0;
    for (const char c : l) {
        if (c == '.' && prev == '.') return false;
        if (!core::ascii::is_alnum(static_cast<unsigned char>(c)) && kSpecials.find(c) == std::string_view::npos)
            return false;
        prev = c;
    }
    return true;
}

bool ldh(unsigned char c) { return core::ascii::is_alnum(c) || c == '-'; }

// "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] → octets; nullopt when malformed
// or absurd (over 2^50: no report is that large, and it keeps the product
// within 64 bits).
std::optional<uint64_t> parse_size(std::string_view s) {
    if (s.empty()) return std::nullopt;
    uint64_t unit = 1;
    switch (s.back()) {
        case 'k': case 'K': unit = 1ull << 10; break;
        case 'm': case 'M': unit = 1ull << 20; break;
        case 'g': case 'G': unit = 1ull << 30; break;
        case 't': case 'T': unit = 1ull << 40; break;
        default: break;
    }
    if (unit != 1) s.remove_suffix(1);
    if (s.empty() || s.size() > 15) return std::nullopt;
    uint64_t n = 0;
    for (const char c : s) {
        if (!core::ascii::is_digit(static_cast<unsigned char>(c))) return std::nullopt;
        n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n == 0 || n > (1ull << 50) / unit) return std::nullopt;
    return n * unit;
}

}  // namespace

std::optional<std::string> dmarc_tag(std::string_view record, std::string_view name) {
    size_t pos = 0;
    while (pos <= record.size()) {
        size_t end = record.find(';', pos);
        if (end == std::string_view::npos) end = record.size();
        const std::string_view part = record.substr(pos, end - pos);
        const size_t eq = part.find('=');
        if (eq != std::string_view::npos && core::ascii::iequals(trim(part.substr(0, eq)), name))
            return std::string(trim(part.substr(eq + 1)));
        pos = end + 1;
    }
    return std::nullopt;
}

std::optional<ReportUri> parse_report_uri(std::string_view uri) {
    ReportUri out;
    // A literal '!' cannot occur in the URI itself (RFC 7489 §6.4: it must
    // be percent-encoded), so the last one starts the size limit.
    if (const size_t bang = uri.rfind('!'); bang != std::string_view::npos) {
        const auto size = parse_size(uri.substr(bang + 1));
        if (!size) return std::nullopt;
        out.max_size = *size;
        uri = uri.substr(0, bang);
    }
    if (uri.size() < 7 || !core::ascii::istarts_with(uri, "mailto:")) return std::nullopt;
    uri.remove_prefix(7);
    // hfields (?subject=...) are not ours to honour: the address ends there.
    if (const size_t q = uri.find('?'); q != std::string_view::npos) uri = uri.substr(0, q);
    const auto decoded = percent_decode(uri);
    if (!decoded) return std::nullopt;
    const size_t at = decoded->rfind('@');
    if (at == std::string::npos) return std::nullopt;
    const std::string local = decoded->substr(0, at);
    const std::string domain = core::ascii::domain_key(decoded->substr(at + 1));
    if (!local_part_ok(local) || domain.empty() || domain.back() == '.' || !core::ascii::dns_name_ok(domain, ldh, 2))
        return std::nullopt;
    out.domain = domain;
    out.address = local + "@" + domain;
    return out;
}

namespace {

// For logs: printable ASCII only, bounded.
std::string shown(std::string_view uri) {
    std::string out;
    for (const char c : uri.substr(0, kMaxShownUri)) out += (c > 0x20 && c < 0x7f) ? c : '?';
    if (uri.size() > kMaxShownUri) out += "...";
    return out;
}

// The URI scheme (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"), lower-case; "" if none.
std::string scheme_of(std::string_view uri) {
    const size_t colon = uri.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 32) return {};
    if (!core::ascii::is_alpha(static_cast<unsigned char>(uri[0]))) return {};
    for (const char c : uri.substr(0, colon))
        if (!core::ascii::is_alnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return {};
    return core::ascii::to_lower(uri.substr(0, colon));
}

}  // namespace

RuaList parse_rua_list(std::string_view value) {
    RuaList out;
    size_t pos = 0;
    while (pos <= value.size() && out.usable.size() < kMaxReportUris) {
        size_t end = value.find(',', pos);
        if (end == std::string_view::npos) end = value.size();
        const std::string_view one = trim(value.substr(pos, end - pos));
        pos = end + 1;
        if (one.empty()) continue;
        if (auto u = parse_report_uri(one)) {
            bool dup = false;
            for (const ReportUri& o : out.usable) dup = dup || o.address == u->address;
            if (!dup) out.usable.push_back(std::move(*u));
            continue;
        }
        if (out.skipped.size() >= kMaxReportUris) continue;
        const std::string scheme = scheme_of(one);
        std::string why;
        if (scheme == "mailto")
            why = "not a usable mailto: address or size limit";
        else if (scheme.empty())
            why = "not a URI";
        else
            why = "only mailto: report URIs are supported (RFC 7489 §7.2.1.1 requires no other); " + scheme +
                  ": skipped";
        out.skipped.push_back(SkippedUri{shown(one), std::move(why)});
    }
    return out;
}

std::vector<ReportUri> parse_rua(std::string_view value) { return parse_rua_list(value).usable; }

bool authorizes_reports(const std::vector<std::string>& txts) {
    for (const std::string& t : txts) {
        std::string_view s = trim(t);
        if (s.size() < 8 || s.substr(0, 1) != "v") continue;
        // "v=DMARC1" with optional whitespace around '=' (RFC 7489 §6.4 tag-list).
        s.remove_prefix(1);
        s = trim(s);
        if (s.empty() || s.front() != '=') continue;
        s.remove_prefix(1);
        s = trim(s);
        if (s.substr(0, 6) != "DMARC1") continue;
        s.remove_prefix(6);
        s = trim(s);
        if (s.empty() || s.front() == ';') return true;
    }
    return false;
}

std::string report_authorization_name(std::string_view policy_domain, std::string_view rua_domain) {
    return std::string(policy_domain) + "._report._dmarc." + std::string(rua_domain);
}

}  // namespace mxgate::dmarc
