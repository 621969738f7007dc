// tlspolicy/mta_sts.cpp — see mta_sts.hpp. Every function is pure.
#include "tlspolicy/mta_sts.hpp"
#include "relay/core/ascii.hpp"

#include <charconv>

namespace mxgate::tlspolicy {

namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_wsp(std::string_view s) {
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    return s;
}

std::string_view strip_dot(std::string_view s) {
    if (!s.empty() && s.back() == '.') s.remove_suffix(1);
    return s;
}

// sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
bool valid_ext_name(std::string_view n) {
    if (n.empty() || n.size() > 32 || !is_alnum(n[0])) return false;
    for (char c : n)
        if (!is_alnum(c) && c != '_' && c != '-' && c != '.') return false;
    return true;
}

// sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): visible, no ';' or '='
bool valid_ext_value(std::string_view v) {
    if (v.empty()) return false;
    for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e || c == ';' || c == '=') return false;
    }
    return true;
}

// A host name as RFC 8461's "Domain" (RFC 5321): LDH labels of 1..63, at
// least two labels, total <= 253. Lower-case input.
bool valid_domain(std::string_view d) {
    auto ldh = [](unsigned char c) { return core::ascii::is_alnum(c) || c == '-'; };
    return core::ascii::dns_name_ok(d, ldh, 2);
}

}  // namespace

std::optional<StsRecord> parse_sts_txt(std::string_view text) {
    constexpr std::string_view kVersion = "v=STSv1";
    if (text.substr(0, kVersion.size()) != kVersion) return std::nullopt;
    std::string_view rest = text.substr(kVersion.size());
    // After the version: 1*(delim field) [delim], delim = *WSP ";" *WSP.
    std::optional<StsRecord> out;
    bool any_field = false;
    while (true) {
        rest = trim_wsp(rest);
        if (rest.empty()) break;
        if (rest.front() != ';') return std::nullopt;
        rest.remove_prefix(1);
        rest = trim_wsp(rest);
        if (rest.empty()) break;  // trailing delimiter
        size_t end = rest.find(';');
        std::string_view field = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        field = trim_wsp(field);
        const size_t eq = field.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        const std::string_view name = field.substr(0, eq);
        const std::string_view value = field.substr(eq + 1);
        if (name == "id") {
            if (out || value.empty() || value.size() > 32) return std::nullopt;
            for (char c : value)
                if (!is_alnum(c)) return std::nullopt;
            out = StsRecord{std::string(value)};
        } else if (!valid_ext_name(name) || !valid_ext_value(value)) {
            return std::nullopt;
        }
        any_field = true;
    }
    if (!any_field) return std::nullopt;
    return out;  // nullopt when no id field
}

std::optional<StsRecord> select_sts_record(const std::vector<std::string>& txts) {
    std::optional<StsRecord> found;
    int candidates = 0;
    for (const auto& t : txts) {
        // §3.1: records that do not begin with "v=STSv1;" are discarded.
        std::string_view v = t;
        if (v.substr(0, 7) != "v=STSv1") continue;
        const std::string_view after = trim_wsp(v.substr(7));
        if (!after.empty() && after.front() != ';') continue;
        ++candidates;
        found = parse_sts_txt(t);
    }
    if (candidates != 1) return std::nullopt;
    return found;
}

const char* sts_mode_name(StsMode m) {
    switch (m) {
        case StsMode::enforce: return "enforce";
        case StsMode::testing: return "testing";
        case StsMode::none: return "none";
    }
    return "none";
}

std::optional<StsPolicy> parse_sts_policy(std::string_view body, std::string& error) {
    StsPolicy p;
    bool have_version = false, have_mode = false, have_age = false;
    size_t line_no = 0;
    auto fail = [&](std::string why) -> std::optional<StsPolicy> {
        error = "line " + std::to_string(line_no) + ": " + why;
        return std::nullopt;
    };
    while (!body.empty()) {
        ++line_no;
        size_t nl = body.find('\n');
        std::string_view line = body.substr(0, nl);
        body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find('\r') != std::string_view::npos) return fail("bare CR");
        if (trim_wsp(line).empty()) continue;  // tolerate blank lines (a trailing one is common)
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) return fail("not \"key: value\"");
        const std::string_view key = line.substr(0, colon);
        const std::string_view value = trim_wsp(line.substr(colon + 1));
        if (!valid_ext_name(key)) return fail("invalid key");
        for (char c : value) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u > 0x7e) return fail("invalid character in value");
        }
        if (key == "version") {
            if (have_version) return fail("duplicate version");
            if (value != "STSv1") return fail("unsupported version");
            have_version = true;
        } else if (key == "mode") {
            if (have_mode) return fail("duplicate mode");
            if (value == "enforce") p.mode = StsMode::enforce;
            else if (value == "testing") p.mode = StsMode::testing;
            else if (value == "none") p.mode = StsMode::none;
            else return fail("invalid mode");
            have_mode = true;
        } else if (key == "max_age") {
            if (have_age) return fail("duplicate max_age");
            if (value.empty() || value.size() > 10) return fail("invalid max_age");
            int64_t n = 0;
            const auto r = std::from_chars(value.data(), value.data() + value.size(), n);
            if (r.ec != std::errc{} || r.ptr != value.data() + value.size() || value.front() == '-' ||
                value.front() == '+')
                return fail("invalid max_age");
            if (n > 31557600) return fail("max_age above 31557600");
            p.max_age = n;
            have_age = true;
        } else if (key == "mx") {
            std::string pat = core::ascii::to_lower(value);
            std::string_view host = pat;
            if (host.substr(0, 2) == "*.") host.remove_prefix(2);
            if (!valid_domain(host)) return fail("invalid mx pattern");
            p.mx.push_back(std::move(pat));
        }
        // other keys: extensions, ignored (§3.2)
    }
    ++line_no;
    if (!have_version) return fail("missing version");
    if (!have_mode) return fail("missing mode");
    if (!have_age) return fail("missing max_age");
    if (p.mode != StsMode::none && p.mx.empty()) return fail("no mx pattern");
    return p;
}

bool sts_mx_pattern_matches(std::string_view pattern, std::string_view host) {
    const std::string pat = core::ascii::to_lower(strip_dot(pattern));
    const std::string h = core::ascii::to_lower(strip_dot(host));
    if (pat.empty() || h.empty()) return false;
    if (pat.size() > 2 && pat[0] == '*' && pat[1] == '.') {
        const std::string_view suffix = std::string_view(pat).substr(1);  // ".example.com"
        if (h.size() <= suffix.size()) return false;
        if (h.compare(h.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
        const std::string_view label = std::string_view(h).substr(0, h.size() - suffix.size());
        return label.find('.') == std::string_view::npos;  // exactly one label
    }
    return pat == h;
}

bool sts_policy_allows_mx(const StsPolicy& p, std::string_view host) {
    for (const auto& pat : p.mx)
        if (sts_mx_pattern_matches(pat, host)) return true;
    return false;
}

std::string serialize_cache_entry(const StsCacheEntry& e) {
    return "id=" + e.id + "\nfetched=" + std::to_string(e.fetched) + "\n\n" + e.body;
}

std::optional<StsCacheEntry> parse_cache_entry(std::string_view text) {
    StsCacheEntry e;
    const size_t sep = text.find("\n\n");
    if (sep == std::string_view::npos) return std::nullopt;
    std::string_view head = text.substr(0, sep);
    e.body = std::string(text.substr(sep + 2));
    bool have_id = false, have_fetched = false;
    while (!head.empty()) {
        const size_t nl = head.find('\n');
        const std::string_view line = head.substr(0, nl);
        head = nl == std::string_view::npos ? std::string_view{} : head.substr(nl + 1);
        if (line.substr(0, 3) == "id=") {
            e.id = std::string(line.substr(3));
            have_id = true;
        } else if (line.substr(0, 8) == "fetched=") {
            const std::string_view v = line.substr(8);
            const auto r = std::from_chars(v.data(), v.data() + v.size(), e.fetched);
            if (r.ec != std::errc{} || r.ptr != v.data() + v.size()) return std::nullopt;
            have_fetched = true;
        }
    }
    if (!have_id || !have_fetched) return std::nullopt;
    std::string err;
    auto p = parse_sts_policy(e.body, err);
    if (!p) return std::nullopt;
    e.policy = std::move(*p);
    return e;
}

}  // namespace mxgate::tlspolicy
