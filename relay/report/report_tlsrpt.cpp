// relay/report/report_tlsrpt.cpp — the TLS-RPT part of `mxgate report tls`:
// per policy domain and UTC day, the sessions the courier recorded
// (relay/queue/tlsrpt_recorder.hpp) by policy and result type, and whether
// the day's report went out.
#include "relay/report/report_tlsrpt.hpp"

#include "relay/core/state_store.hpp"
#include "relay/queue/tlsrpt_recorder.hpp"

namespace mxgate::report {

std::vector<TlsRptDay> tlsrpt_days(const std::string& spool, const std::string& since_day) {
    std::vector<TlsRptDay> out;
    std::map<std::pair<std::string, std::string>, TlsRptDay> by;
    try {
        core::StateStore store(spool, queue::kTlsRptStore);
        store.for_each([&](const std::string& key, const std::string& value) {
            const auto dd = queue::parse_tlsrpt_results_key(key);
            if (!dd || dd->first < since_day) return;
            auto d = tlspolicy::decode(value);
            if (!d) return;
            TlsRptDay& day = by[*dd];
            day.day = dd->first;
            day.domain = dd->second;
            day.results = std::move(*d);
            if (auto sent = store.get(queue::tlsrpt_sent_key(dd->first, dd->second))) {
                const size_t sp = sent->find(' ');
                day.report = sp == std::string::npos ? *sent : sent->substr(sp + 1);
            }
        });
    } catch (const std::exception&) {
        // No state directory yet: nothing recorded.
    }
    for (auto& [k, v] : by) out.push_back(std::move(v));
    return out;
}

std::string tlsrpt_text(const std::vector<TlsRptDay>& days) {
    std::string out = "\nTLS-RPT (RFC 8460) results per policy domain and UTC day:\n";
    if (days.empty()) return out + "  none recorded\n";
    std::vector<std::vector<std::string>> rows{{"DAY", "DOMAIN", "POLICY", "RESULT", "SESSIONS", "REPORT"}};
    for (const auto& d : days) {
        const std::string report = d.report.empty() ? "pending" : d.report;
        for (const auto& [p, r] : d.results.policies) {
            const std::string policy = tlspolicy::rpt_policy_type_name(p.type);
            rows.push_back({d.day, printable(d.domain), policy, "success", std::to_string(r.successes), report});
            std::map<std::string, uint64_t> by_type;
            for (const auto& [f, n] : r.failures) by_type[tlspolicy::rpt_result_name(f.result)] += n;
            for (const auto& [t, n] : by_type) rows.push_back({d.day, printable(d.domain), policy, t, std::to_string(n), report});
        }
    }
    return out + table(rows);
}

std::string tlsrpt_json(const std::vector<TlsRptDay>& days) {
    std::string out = "[";
    for (const auto& d : days) {
        if (out.size() > 1) out += ",";
        out += "{\"day\":" + json_quote(d.day) + ",\"domain\":" + json_quote(d.domain) +
               ",\"report\":" + json_quote(d.report.empty() ? "pending" : d.report) + ",\"policies\":[";
        bool first = true;
        for (const auto& [p, r] : d.results.policies) {
            if (!first) out += ",";
            first = false;
            std::map<std::string, uint64_t> by_type;
            for (const auto& [f, n] : r.failures) by_type[tlspolicy::rpt_result_name(f.result)] += n;
            out += "{\"policy_type\":" + json_quote(tlspolicy::rpt_policy_type_name(p.type)) +
                   ",\"successful\":" + std::to_string(r.successes) +
                   ",\"failed\":" + std::to_string(r.failure_total()) + ",\"failures\":{";
            bool ff = true;
            for (const auto& [t, n] : by_type) {
                if (!ff) out += ",";
                ff = false;
                out += json_quote(t) + ":" + std::to_string(n);
            }
            out += "}}";
        }
        out += "]}";
    }
    return out + "]";
}

}  // namespace mxgate::report
