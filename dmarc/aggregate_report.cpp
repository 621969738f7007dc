// dmarc/aggregate_report.cpp — see aggregate_report.hpp.
#include "dmarc/aggregate_report.hpp"

#include <algorithm>
#include <array>

#include "relay/core/ascii.hpp"

namespace mxgate::dmarc {

namespace {

constexpr size_t kFields = 20;
constexpr std::string_view kTag = "R1";

constexpr std::array<std::string_view, 3> kDispositions{"none", "quarantine", "reject"};
constexpr std::array<std::string_view, 7> kDkimResults{"none", "pass", "fail", "policy",
                                                       "neutral", "temperror", "permerror"};
constexpr std::array<std::string_view, 7> kSpfResults{"none", "neutral", "pass", "fail",
                                                      "softfail", "temperror", "permerror"};
constexpr std::array<std::string_view, 6> kReasons{"forwarded", "sampled_out", "trusted_forwarder",
                                                   "mailing_list", "local_policy", "other"};

template <size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view v) {
    return std::find(set.begin(), set.end(), v) != set.end();
}

// Printable ASCII stays; '%' ',' '/' and everything else become %XX, so a
// field never holds TAB, LF or the list separators.
std::string enc(std::string_view s) {
    return core::ascii::percent_encode(
        s, [](unsigned char c) { return c > 0x20 && c < 0x7f && c != '%' && c != ',' && c != '/'; });
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> dec(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c != '%') {
            if (c <= 0x20 || c >= 0x7f || c == ',' || c == '/') return std::nullopt;
            out += static_cast<char>(c);
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t pos = 0;
    for (;;) {
        const size_t end = s.find(sep, pos);
        out.push_back(s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
        if (end == std::string_view::npos) return out;
        pos = end + 1;
    }
}

std::optional<int64_t> dec_int(std::string_view s, int64_t min, int64_t max) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    int64_t n = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    if (n < min || n > max) return std::nullopt;
    return n;
}

const char* policy_word(char p) {
    switch (p) {
        case 'q': return "quarantine";
        case 'r': return "reject";
        default: return "none";
    }
}

// The aggregation key: the encoded row without its time.
std::string row_key(const ReportRow& r) {
    ReportRow k = r;
    k.time = 0;
    return encode_row(k);
}

// One element with escaped text.
void element(std::string& out, int indent, std::string_view name, std::string_view text) {
    out.append(static_cast<size_t>(indent) * 2, ' ');
    out += '<';
    out += name;
    out += '>';
    out += xml_escape(text);
    out += "</";
    out += name;
    out += ">\n";
}

void open(std::string& out, int indent, std::string_view name) {
    out.append(static_cast<size_t>(indent) * 2, ' ');
    out += '<';
    out += name;
    out += ">\n";
}

void close(std::string& out, int indent, std::string_view name) {
    out.append(static_cast<size_t>(indent) * 2, ' ');
    out += "</";
    out += name;
    out += ">\n";
}

// Length of a valid UTF-8 sequence at s[i] (XML Char range), or 0.
size_t utf8_sequence(std::string_view s, size_t i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        const unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (cc & 0x3F);
    }
    const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    const bool invalid = cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF;
    return overlong || invalid ? 0 : n;
}

}  // namespace

std::string xml_escape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        switch (c) {
            case '<': out += "&lt;"; continue;
            case '>': out += "&gt;"; continue;
            case '&': out += "&amp;"; continue;
            case '"': out += "&quot;"; continue;
            case '\'': out += "&apos;"; continue;
            default: break;
        }
        if (c < 0x80) {
            // XML 1.0 has no control characters, escaped or not.
            out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
            continue;
        }
        const size_t n = utf8_sequence(s, i);
        if (n == 0) {
            out += '?';  // not UTF-8: the document must stay well-formed
            continue;
        }
        out.append(s.substr(i, n));
        i += n - 1;
    }
    return out;
}

std::string encode_row(const ReportRow& r) {
    std::string reasons, dkim;
    for (const std::string& x : r.reasons) reasons += (reasons.empty() ? "" : ",") + enc(x);
    for (const ReportDkim& d : r.dkim)
        dkim += (dkim.empty() ? "" : ",") + enc(d.domain) + "/" + enc(d.selector) + "/" + enc(d.result);
    const std::string fields[kFields] = {
        std::string(kTag), std::to_string(r.time), enc(r.policy_domain), enc(r.source_ip),
        enc(r.header_from), enc(r.envelope_from), enc(r.disposition), r.dkim_aligned ? "1" : "0",
        r.spf_aligned ? "1" : "0", reasons, dkim, enc(r.spf_domain), enc(r.spf_scope), enc(r.spf_result),
        std::string(1, r.p), std::string(1, r.sp), std::to_string(r.pct), std::string(1, r.adkim),
        std::string(1, r.aspf), enc(r.rua)};
    std::string out;
    for (size_t i = 0; i < kFields; ++i) {
        if (i) out += '\t';
        out += fields[i];
    }
    out += '\n';
    return out;
}

std::optional<ReportRow> decode_row(std::string_view line) {
    const std::vector<std::string_view> f = split(line, '\t');
    if (f.size() != kFields || f[0] != kTag) return std::nullopt;
    ReportRow r;
    const auto t = dec_int(f[1], 0, int64_t{1} << 40);
    if (!t) return std::nullopt;
    r.time = *t;
    std::string* text[] = {&r.policy_domain, &r.source_ip, &r.header_from, &r.envelope_from, &r.disposition};
    for (size_t i = 0; i < 5; ++i) {
        auto v = dec(f[2 + i]);
        if (!v) return std::nullopt;
        *text[i] = std::move(*v);
    }
    if (r.policy_domain.empty() || r.source_ip.empty() || !one_of(kDispositions, r.disposition))
        return std::nullopt;
    if ((f[7] != "0" && f[7] != "1") || (f[8] != "0" && f[8] != "1")) return std::nullopt;
    r.dkim_aligned = f[7] == "1";
    r.spf_aligned = f[8] == "1";
    if (!f[9].empty())
        for (const std::string_view x : split(f[9], ',')) {
            auto v = dec(x);
            if (!v || !one_of(kReasons, *v)) return std::nullopt;
            r.reasons.push_back(std::move(*v));
        }
    if (!f[10].empty())
        for (const std::string_view x : split(f[10], ',')) {
            const std::vector<std::string_view> parts = split(x, '/');
            if (parts.size() != 3) return std::nullopt;
            auto d = dec(parts[0]), s = dec(parts[1]), res = dec(parts[2]);
            if (!d || !s || !res || !one_of(kDkimResults, *res)) return std::nullopt;
            r.dkim.push_back({std::move(*d), std::move(*s), std::move(*res)});
        }
    auto sd = dec(f[11]), ss = dec(f[12]), sr = dec(f[13]), rua = dec(f[19]);
    if (!sd || !ss || !sr || !rua) return std::nullopt;
    if ((*ss != "mfrom" && *ss != "helo") || !one_of(kSpfResults, *sr)) return std::nullopt;
    r.spf_domain = std::move(*sd);
    r.spf_scope = std::move(*ss);
    r.spf_result = std::move(*sr);
    r.rua = std::move(*rua);
    auto policy = [](std::string_view v) { return v == "n" || v == "q" || v == "r"; };
    auto mode = [](std::string_view v) { return v == "r" || v == "s"; };
    const auto pct = dec_int(f[16], 0, 100);
    if (!policy(f[14]) || !policy(f[15]) || !pct || !mode(f[17]) || !mode(f[18])) return std::nullopt;
    r.p = f[14][0];
    r.sp = f[15][0];
    r.pct = static_cast<int>(*pct);
    r.adkim = f[17][0];
    r.aspf = f[18][0];
    return r;
}

std::vector<ReportRow> decode_rows(std::string_view file) {
    std::vector<ReportRow> out;
    size_t pos = 0;
    while (pos < file.size()) {
        const size_t nl = file.find('\n', pos);
        if (nl == std::string_view::npos) break;  // torn last line: never counted
        if (auto r = decode_row(file.substr(pos, nl - pos))) out.push_back(std::move(*r));
        pos = nl + 1;
    }
    return out;
}

std::vector<DomainReport> aggregate(const std::vector<ReportRow>& rows) {
    std::map<std::string, DomainReport> by_domain;
    std::map<std::string, std::map<std::string, size_t>> index;  // domain → key → records[i]
    for (const ReportRow& r : rows) {
        DomainReport& d = by_domain[r.policy_domain];
        if (d.records.empty() || r.time >= d.published.time) d.published = r;
        d.policy_domain = r.policy_domain;
        const std::string key = row_key(r);
        auto& idx = index[r.policy_domain];
        const auto it = idx.find(key);
        if (it == idx.end()) {
            idx.emplace(key, d.records.size());
            d.records.push_back({r, 1});
        } else {
            ++d.records[it->second].count;
        }
        ++d.messages;
    }
    std::vector<DomainReport> out;
    for (auto& [domain, d] : by_domain) out.push_back(std::move(d));
    return out;
}

std::string render_feedback(const ReportMeta& meta, const DomainReport& rep) {
    const ReportRow& pub = rep.published;
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n";
    open(out, 1, "report_metadata");
    element(out, 2, "org_name", meta.org_name);
    element(out, 2, "email", meta.email);
    element(out, 2, "report_id", meta.report_id);
    open(out, 2, "date_range");
    element(out, 3, "begin", std::to_string(meta.begin));
    element(out, 3, "end", std::to_string(meta.end));
    close(out, 2, "date_range");
    close(out, 1, "report_metadata");
    open(out, 1, "policy_published");
    element(out, 2, "domain", rep.policy_domain);
    element(out, 2, "adkim", std::string(1, pub.adkim));
    element(out, 2, "aspf", std::string(1, pub.aspf));
    element(out, 2, "p", policy_word(pub.p));
    element(out, 2, "sp", policy_word(pub.sp));
    element(out, 2, "pct", std::to_string(pub.pct));
    close(out, 1, "policy_published");
    for (const CountedRow& c : rep.records) {
        const ReportRow& r = c.row;
        open(out, 1, "record");
        open(out, 2, "row");
        element(out, 3, "source_ip", r.source_ip);
        element(out, 3, "count", std::to_string(c.count));
        open(out, 3, "policy_evaluated");
        element(out, 4, "disposition", r.disposition);
        element(out, 4, "dkim", r.dkim_aligned ? "pass" : "fail");
        element(out, 4, "spf", r.spf_aligned ? "pass" : "fail");
        for (const std::string& reason : r.reasons) {
            open(out, 4, "reason");
            element(out, 5, "type", reason);
            close(out, 4, "reason");
        }
        close(out, 3, "policy_evaluated");
        close(out, 2, "row");
        open(out, 2, "identifiers");
        element(out, 3, "header_from", r.header_from);
        element(out, 3, "envelope_from", r.envelope_from);
        close(out, 2, "identifiers");
        open(out, 2, "auth_results");
        for (const ReportDkim& d : r.dkim) {
            open(out, 3, "dkim");
            element(out, 4, "domain", d.domain);
            if (!d.selector.empty()) element(out, 4, "selector", d.selector);
            element(out, 4, "result", d.result);
            close(out, 3, "dkim");
        }
        open(out, 3, "spf");
        element(out, 4, "domain", r.spf_domain);
        element(out, 4, "scope", r.spf_scope);
        element(out, 4, "result", r.spf_result);
        close(out, 3, "spf");
        close(out, 2, "auth_results");
        close(out, 1, "record");
    }
    out += "</feedback>\n";
    return out;
}

std::string report_filename(std::string_view receiver, const DomainReport& r, int64_t begin, int64_t end) {
    return std::string(receiver) + "!" + r.policy_domain + "!" + std::to_string(begin) + "!" +
           std::to_string(end) + ".xml.gz";
}

std::string report_subject(std::string_view org, std::string_view domain, std::string_view report_id) {
    return "Report Domain: " + std::string(domain) + " Submitter: " + std::string(org) + " Report-ID: <" +
           std::string(report_id) + ">";
}

}  // namespace mxgate::dmarc
