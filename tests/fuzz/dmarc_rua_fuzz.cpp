// tests/fuzz/dmarc_rua_fuzz.cpp — libFuzzer target for the DMARC reporting
// parsers: dmarc/report_uri.cpp (rua tag, mailto: URIs with !size, the
// _report._dmarc authorisation record) and dmarc/aggregate_report.cpp (the
// recorded-row line format, aggregation, XML).
//
// Invariants: a destination is a single plain local@domain (no octet that
// could end an SMTP path or start a header: controls, space, <>,;:"\),
// with a lower-case domain, at most four of them; a decoded row re-encodes
// to one line that decodes to the same row; the XML built from decoded
// rows holds no control character but LF and no raw '<' or '&' inside
// element text, and one <record> per aggregated record.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dmarc/aggregate_report.hpp"
#include "dmarc/report_uri.hpp"

using namespace mxgate::dmarc;

namespace {

void require(bool ok) {
    if (!ok) __builtin_trap();
}

void check_uri(const ReportUri& u) {
    const size_t at = u.address.find('@');
    require(at != std::string::npos && at > 0 && u.address.find('@', at + 1) == std::string::npos);
    require(u.address.substr(at + 1) == u.domain);
    for (const char c : u.address) {
        const unsigned char uc = static_cast<unsigned char>(c);
        require(uc > 0x20 && uc < 0x7f);
        require(std::string_view("<>,;:\"\\[]() ").find(c) == std::string_view::npos);
    }
    for (const char c : u.domain) require(!(c >= 'A' && c <= 'Z'));
}

void check_xml(const std::string& xml, size_t records) {
    for (const char c : xml) require(static_cast<unsigned char>(c) >= 0x20 || c == '\n');
    size_t n = 0;
    for (size_t p = xml.find("<record>"); p != std::string::npos; p = xml.find("<record>", p + 1)) ++n;
    require(n == records);
    // Inside element text (between '>' and the next '<') no '&' starts
    // anything but one of our five entities.
    for (size_t p = xml.find('&'); p != std::string::npos; p = xml.find('&', p + 1)) {
        const std::string_view rest = std::string_view(xml).substr(p);
        require(rest.rfind("&lt;", 0) == 0 || rest.rfind("&gt;", 0) == 0 || rest.rfind("&amp;", 0) == 0 ||
                rest.rfind("&quot;", 0) == 0 || rest.rfind("&apos;", 0) == 0);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);

    // rua, as a tag value and inside a whole record.
    const auto uris = parse_rua(input);
    require(uris.size() <= kMaxReportUris);
    for (const ReportUri& u : uris) check_uri(u);
    if (const auto v = dmarc_tag("v=DMARC1; p=reject; " + input, "rua"))
        for (const ReportUri& u : parse_rua(*v)) check_uri(u);
    if (const auto u = parse_report_uri(input)) check_uri(*u);
    // What is skipped goes into a log event: printable and bounded.
    const RuaList listed = parse_rua_list(input);
    require(listed.usable.size() == uris.size() && listed.skipped.size() <= kMaxReportUris);
    for (const SkippedUri& s : listed.skipped) {
        require(!s.reason.empty() && s.uri.size() <= kMaxShownUri + 3);
        for (const char c : s.uri) require(c > 0x20 && c < 0x7f);
    }
    (void)authorizes_reports({input});

    // Recorded rows: each input line is a candidate.
    std::vector<ReportRow> rows = decode_rows(input + "\n");
    for (const ReportRow& r : rows) {
        const std::string line = encode_row(r);
        require(!line.empty() && line.back() == '\n' && line.find('\n') == line.size() - 1);
        const auto again = decode_row(std::string_view(line).substr(0, line.size() - 1));
        require(again && encode_row(*again) == line);
    }
    for (const DomainReport& rep : aggregate(rows)) {
        ReportMeta meta{input.substr(0, 40), "postmaster@mx.test", "id@mx.test", 0, 86400};
        check_xml(render_feedback(meta, rep), rep.records.size());
    }
    check_xml(xml_escape(input), 0);
    return 0;
}
