// dmarc/aggregate_report.hpp — DMARC aggregate reports (RFC 7489 §7.2,
// Appendix C): one recorded row per evaluated message, the on-disk line
// format of those rows, their aggregation, and the XML report.
//
// Pure code; the row decoder reads files a crash may have torn and is
// fuzzed (tests/fuzz/dmarc_rua_fuzz.cpp).
//
//   encode_row / decode_row   one row ⇄ one line ("R1" TAB fields... LF);
//                             every field percent-encoded, so no mail
//                             text can add a field or a line
//   aggregate(rows)           per policy domain: identical rows (all fields
//                             but the time) counted, the latest published
//                             policy and rua
//   render_feedback(...)      the <feedback> document; every value is
//                             XML-escaped (header_from, selectors and
//                             DKIM domains come from mail)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::dmarc {

struct ReportDkim {
    std::string domain;    // d=
    std::string selector;  // s=
    std::string result;    // RFC 8601 dkim result word
    bool operator==(const ReportDkim&) const = default;
};

// What one message's DMARC evaluation contributes (RFC 7489 Appendix C).
struct ReportRow {
    int64_t time = 0;                 // unix seconds (not part of the aggregation key)
    std::string policy_domain;        // where the DMARC record was found
    std::string source_ip;
    std::string header_from;
    std::string envelope_from;        // MAIL FROM domain; "" for <>
    std::string disposition;          // none | quarantine | reject (applied)
    bool dkim_aligned = false;        // policy_evaluated/dkim pass
    bool spf_aligned = false;         // policy_evaluated/spf pass
    std::vector<std::string> reasons; // PolicyOverrideType words (sampled_out, local_policy)
    std::vector<ReportDkim> dkim;     // every signature
    std::string spf_domain;
    std::string spf_scope;            // mfrom | helo
    std::string spf_result;           // RFC 7208 result word
    // The published policy (policy_published) and the record's rua value.
    char p = 'n', sp = 'n';           // n | q | r
    int pct = 100;
    char adkim = 'r', aspf = 'r';     // r | s
    std::string rua;
};

std::string encode_row(const ReportRow& row);  // one line, ending in '\n'
// A line without its '\n'; nullopt for a torn, foreign or invalid line.
std::optional<ReportRow> decode_row(std::string_view line);
// Every valid line of a rows file (a torn last line is skipped).
std::vector<ReportRow> decode_rows(std::string_view file);

struct CountedRow {
    ReportRow row;
    uint64_t count = 0;
};

struct DomainReport {
    std::string policy_domain;
    ReportRow published;              // the latest row: its p/sp/pct/adkim/aspf/rua
    std::vector<CountedRow> records;  // first-seen order
    uint64_t messages = 0;
};

// Rows of one period → one report per policy domain (sorted by domain).
std::vector<DomainReport> aggregate(const std::vector<ReportRow>& rows);

struct ReportMeta {
    std::string org_name;
    std::string email;
    std::string report_id;
    int64_t begin = 0;
    int64_t end = 0;
};

std::string render_feedback(const ReportMeta& meta, const DomainReport& report);

std::string xml_escape(std::string_view s);

// RFC 7489 §7.2.1.1 names: "<receiver>!<policy-domain>!<begin>!<end>.xml.gz"
// and the Subject: "Report Domain: D Submitter: ORG Report-ID: <ID>".
std::string report_filename(std::string_view receiver, const DomainReport& r, int64_t begin, int64_t end);
std::string report_subject(std::string_view org, std::string_view domain, std::string_view report_id);

}  // namespace mxgate::dmarc
