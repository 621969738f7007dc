// relay/report/report_tlsrpt.hpp — the TLS-RPT view of `mxgate report tls`
// (docs/tlsrpt.md): what the courier recorded per policy domain and UTC day
// (the spool's "tlsrpt" state store), successes and failures by RFC 8460
// result type, and the day's report status (pending / sent / skipped /
// failed).
#pragma once

#include <string>
#include <vector>

#include "relay/report/report.hpp"
#include "tlspolicy/tlsrpt_aggregate.hpp"

namespace mxgate::report {

struct TlsRptDay {
    std::string day;       // YYYY-MM-DD (UTC)
    std::string domain;    // policy domain
    tlspolicy::DayResults results;
    std::string report;    // "" = not sent yet; else "sent", "skipped", "failed"
};

// Days on or after since_day ("" = all), sorted by day then domain.
std::vector<TlsRptDay> tlsrpt_days(const std::string& spool, const std::string& since_day);
std::string tlsrpt_text(const std::vector<TlsRptDay>& days);
std::string tlsrpt_json(const std::vector<TlsRptDay>& days);   // a JSON array

}  // namespace mxgate::report
