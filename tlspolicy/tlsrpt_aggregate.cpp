#include "tlspolicy/tlsrpt_aggregate.hpp"

#include <cstdio>
#include <ctime>

#include "relay/core/utc_time.hpp"
#include "tlspolicy/mta_sts.hpp"

namespace mxgate::tlspolicy {

namespace {

constexpr size_t kMaxText = 512;
constexpr size_t kMaxList = 64;   // policy strings / mx hosts kept per policy

std::string escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\t') out += "\\t";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::optional<std::string> unescape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        if (++i == s.size()) return std::nullopt;
        if (s[i] == '\\') out += '\\';
        else if (s[i] == 't') out += '\t';
        else if (s[i] == 'n') out += '\n';
        else return std::nullopt;
    }
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i)
        if (i == s.size() || s[i] == sep) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    return out;
}

std::optional<uint64_t> number(std::string_view s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
}

std::optional<RptPolicyType> policy_type(std::string_view s) {
    for (RptPolicyType t : {RptPolicyType::sts, RptPolicyType::tlsa, RptPolicyType::no_policy_found})
        if (s == rpt_policy_type_name(t)) return t;
    return std::nullopt;
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"') out += "\\\"";
        else if (c == '\\') out += "\\\\";
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else out += static_cast<char>(c);
    }
    return out + "\"";
}

std::string json_list(const std::vector<std::string>& v) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + json_string(v[i]);
    return out + "]";
}

}  // namespace

uint64_t RptPolicyResults::failure_total() const {
    uint64_t n = 0;
    for (const auto& [f, c] : failures) n += c;
    return n;
}

std::string rpt_text(std::string_view s) {
    std::string out;
    for (unsigned char c : s.substr(0, kMaxText)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    return out;
}

void DayResults::add(const RptPolicy& p, const Classified& c, const RptFailure& where) {
    if (c.result == RptResult::not_counted) return;
    RptPolicy key;
    key.type = p.type;
    for (size_t i = 0; i < p.strings.size() && i < kMaxList; ++i) key.strings.push_back(rpt_text(p.strings[i]));
    for (size_t i = 0; i < p.mx_hosts.size() && i < kMaxList; ++i) key.mx_hosts.push_back(rpt_text(p.mx_hosts[i]));
    RptPolicyResults& r = policies[key];
    if (c.result == RptResult::success) {
        ++r.successes;
        return;
    }
    RptFailure f;
    f.result = c.result;
    f.sending_ip = rpt_text(where.sending_ip);
    f.mx_host = rpt_text(where.mx_host);
    f.receiving_ip = rpt_text(where.receiving_ip);
    f.reason = rpt_text(c.reason);
    ++r.failures[f];
}

std::string encode(const DayResults& d) {
    std::string out;
    for (const auto& [p, r] : d.policies) {
        out += "P\t";
        out += rpt_policy_type_name(p.type);
        out += "\t" + std::to_string(p.strings.size());
        for (const auto& s : p.strings) out += "\t" + escape(s);
        out += "\t" + std::to_string(p.mx_hosts.size());
        for (const auto& s : p.mx_hosts) out += "\t" + escape(s);
        out += "\nS\t" + std::to_string(r.successes) + "\n";
        for (const auto& [f, n] : r.failures)
            out += std::string("F\t") + rpt_result_name(f.result) + "\t" + escape(f.sending_ip) + "\t" +
                   escape(f.mx_host) + "\t" + escape(f.receiving_ip) + "\t" + escape(f.reason) + "\t" +
                   std::to_string(n) + "\n";
    }
    return out;
}

std::optional<DayResults> decode(std::string_view text) {
    DayResults d;
    RptPolicyResults* cur = nullptr;
    for (std::string_view line : split(text, '\n')) {
        if (line.empty()) continue;
        const auto f = split(line, '\t');
        if (f[0] == "P") {
            if (f.size() < 3) return std::nullopt;
            RptPolicy p;
            const auto t = policy_type(f[1]);
            const auto ns = number(f[2]);
            if (!t || !ns || *ns > kMaxList || f.size() < 4 + *ns) return std::nullopt;
            p.type = *t;
            size_t i = 3;
            for (uint64_t k = 0; k < *ns; ++k, ++i) {
                auto s = unescape(f[i]);
                if (!s) return std::nullopt;
                p.strings.push_back(*s);
            }
            const auto nm = number(f[i++]);
            if (!nm || *nm > kMaxList || f.size() != i + *nm) return std::nullopt;
            for (uint64_t k = 0; k < *nm; ++k, ++i) {
                auto s = unescape(f[i]);
                if (!s) return std::nullopt;
                p.mx_hosts.push_back(*s);
            }
            if (d.policies.count(p)) return std::nullopt;
            cur = &d.policies[p];
        } else if (f[0] == "S") {
            const auto n = f.size() == 2 ? number(f[1]) : std::nullopt;
            if (!cur || !n) return std::nullopt;
            cur->successes = *n;
        } else if (f[0] == "F") {
            if (!cur || f.size() != 7) return std::nullopt;
            RptFailure x;
            x.result = rpt_result_from_name(f[1]);
            auto a = unescape(f[2]), b = unescape(f[3]), c = unescape(f[4]), r = unescape(f[5]);
            const auto n = number(f[6]);
            if (x.result == RptResult::not_counted || !a || !b || !c || !r || !n) return std::nullopt;
            x.sending_ip = *a;
            x.mx_host = *b;
            x.receiving_ip = *c;
            x.reason = *r;
            cur->failures[x] += *n;
        } else {
            return std::nullopt;
        }
    }
    return d;
}

std::string rfc3339_utc(int64_t t) { return core::utc_text(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::string utc_day(int64_t t) { return core::utc_text(t, "%Y-%m-%d"); }

std::optional<int64_t> utc_day_start(std::string_view day) {
    if (day.size() != 10 || day[4] != '-' || day[7] != '-') return std::nullopt;
    const auto y = number(day.substr(0, 4)), m = number(day.substr(5, 2)), dd = number(day.substr(8, 2));
    if (!y || !m || !dd || *m < 1 || *m > 12 || *dd < 1 || *dd > 31 || *y < 1970) return std::nullopt;
    std::tm tm{};
    tm.tm_year = static_cast<int>(*y) - 1900;
    tm.tm_mon = static_cast<int>(*m) - 1;
    tm.tm_mday = static_cast<int>(*dd);
    const int64_t t = timegm(&tm);
    if (utc_day(t) != day) return std::nullopt;  // 2023-02-30 and the like
    return t;
}

std::vector<std::string> sts_policy_strings(const StsPolicy& p) {
    std::vector<std::string> out{"version: STSv1", std::string("mode: ") + sts_mode_name(p.mode)};
    for (const auto& mx : p.mx) out.push_back("mx: " + mx);
    out.push_back("max_age: " + std::to_string(p.max_age));
    return out;
}

std::string report_json(const ReportMeta& meta, const DayResults& d) {
    std::string j = "{";
    j += "\"organization-name\":" + json_string(meta.organization);
    j += ",\"date-range\":{\"start-datetime\":" + json_string(rfc3339_utc(meta.start)) +
         ",\"end-datetime\":" + json_string(rfc3339_utc(meta.end)) + "}";
    j += ",\"contact-info\":" + json_string(meta.contact);
    j += ",\"report-id\":" + json_string(meta.report_id);
    j += ",\"policies\":[";
    bool first = true;
    for (const auto& [p, r] : d.policies) {
        if (!first) j += ",";
        first = false;
        j += "{\"policy\":{\"policy-type\":" + json_string(rpt_policy_type_name(p.type));
        if (!p.strings.empty()) j += ",\"policy-string\":" + json_list(p.strings);
        j += ",\"policy-domain\":" + json_string(meta.policy_domain);
        if (!p.mx_hosts.empty()) j += ",\"mx-host\":" + json_list(p.mx_hosts);
        j += "},\"summary\":{\"total-successful-session-count\":" + std::to_string(r.successes) +
             ",\"total-failure-session-count\":" + std::to_string(r.failure_total()) + "}";
        if (!r.failures.empty()) {
            j += ",\"failure-details\":[";
            bool ff = true;
            for (const auto& [f, n] : r.failures) {
                if (!ff) j += ",";
                ff = false;
                j += "{\"result-type\":" + json_string(rpt_result_name(f.result));
                if (!f.sending_ip.empty()) j += ",\"sending-mta-ip\":" + json_string(f.sending_ip);
                if (!f.mx_host.empty()) j += ",\"receiving-mx-hostname\":" + json_string(f.mx_host);
                if (!f.receiving_ip.empty()) j += ",\"receiving-ip\":" + json_string(f.receiving_ip);
                j += ",\"failed-session-count\":" + std::to_string(n);
                if (!f.reason.empty()) j += ",\"failure-reason-code\":" + json_string(f.reason);
                j += "}";
            }
            j += "]";
        }
        j += "}";
    }
    j += "]}";
    return j;
}

}  // namespace mxgate::tlspolicy
