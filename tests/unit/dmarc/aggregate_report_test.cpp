// DMARC aggregate reports (dmarc/aggregate_report): the row format, the
// aggregation and the RFC 7489 Appendix C XML, parsed back by a real XML
// parser (python3's xml.etree, which the build already requires).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "dmarc/aggregate_report.hpp"

using namespace mxgate::dmarc;

namespace {

ReportRow sample(int64_t time, std::string ip, std::string disposition) {
    ReportRow r;
    r.time = time;
    r.policy_domain = "sender.test";
    r.source_ip = std::move(ip);
    r.header_from = "sender.test";
    r.envelope_from = "sender.test";
    r.disposition = std::move(disposition);
    r.dkim_aligned = r.disposition == "none";
    r.spf_aligned = false;
    r.dkim = {{"sender.test", "sel", r.dkim_aligned ? "pass" : "fail"}};
    r.spf_domain = "sender.test";
    r.spf_scope = "mfrom";
    r.spf_result = "fail";
    r.p = 'r';
    r.sp = 'r';
    r.pct = 100;
    r.rua = "mailto:dmarc@reports.test";
    return r;
}

// Runs python3 over the document; returns what the script printed.
std::string python_parse(const std::string& xml, const std::string& script) {
    char path[] = "/tmp/mxgate-dmarc-xml-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(path, std::ios::binary) << xml;
    const std::string cmd = "python3 -c '" + script + "' " + path + " 2>&1";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
        ::pclose(p);
    }
    ::unlink(path);
    return out;
}

}  // namespace

TEST_CASE("rows round-trip through their line format", "[dmarc][aggregate]") {
    ReportRow r = sample(1700000000, "192.0.2.1", "reject");
    r.reasons = {"local_policy", "sampled_out"};
    r.dkim.push_back({"evil,d/x\tz%", "", "permerror"});
    r.header_from = "we\tird\nfrom";
    r.envelope_from = "";
    r.sp = 'q';
    r.adkim = 's';
    const std::string line = encode_row(r);
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);  // mail text cannot add a line
    const auto back = decode_row(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(back);
    CHECK(back->time == r.time);
    CHECK(back->header_from == r.header_from);
    CHECK(back->envelope_from.empty());
    CHECK(back->dkim == r.dkim);
    CHECK(back->reasons == r.reasons);
    CHECK(back->sp == 'q');
    CHECK(back->adkim == 's');
    CHECK(encode_row(*back) == line);
}

TEST_CASE("torn, foreign and invalid lines are not rows", "[dmarc][aggregate]") {
    const std::string line = encode_row(sample(1, "192.0.2.1", "none"));
    const std::string body = line.substr(0, line.size() - 1);
    CHECK_FALSE(decode_row(body.substr(0, 40)));  // torn: fields missing
    // A line torn inside its last field can still look whole: only the
    // newline commits a row (decode_rows below, DmarcStore's torn tail).
    CHECK(decode_row(body.substr(0, body.size() - 3)));
    CHECK_FALSE(decode_row("R2" + body.substr(2)));
    CHECK_FALSE(decode_row(""));
    std::string bad = body;
    bad.replace(bad.find("\tnone\t"), 6, "\tdrop\t");
    CHECK_FALSE(decode_row(bad));
    // A file: two good lines, a torn last one that never got its newline.
    const std::string file = line + line + body.substr(0, 20);
    CHECK(decode_rows(file).size() == 2);
}

TEST_CASE("identical rows are counted; one report per policy domain", "[dmarc][aggregate]") {
    std::vector<ReportRow> rows{sample(10, "192.0.2.1", "none"), sample(20, "192.0.2.1", "none"),
                                sample(30, "192.0.2.2", "reject"), sample(40, "192.0.2.1", "none")};
    ReportRow other = sample(50, "192.0.2.9", "none");
    other.policy_domain = "other.test";
    rows.push_back(other);
    rows[3].pct = 50;  // the policy changed during the day: a new row, and the latest policy is published
    const auto reports = aggregate(rows);
    REQUIRE(reports.size() == 2);
    CHECK(reports[0].policy_domain == "other.test");
    const DomainReport& s = reports[1];
    CHECK(s.policy_domain == "sender.test");
    CHECK(s.messages == 4);
    REQUIRE(s.records.size() == 3);
    CHECK(s.records[0].count == 2);
    CHECK(s.records[0].row.source_ip == "192.0.2.1");
    CHECK(s.records[1].count == 1);
    CHECK(s.records[1].row.disposition == "reject");
    CHECK(s.published.pct == 50);
}

TEST_CASE("the feedback document parses and has the Appendix C shape", "[dmarc][aggregate][xml]") {
    std::vector<ReportRow> rows{sample(10, "192.0.2.1", "none"), sample(20, "192.0.2.1", "none"),
                                sample(30, "2001:db8::1", "reject")};
    rows[2].header_from = "<script>&\"x'";
    rows[2].dkim.push_back({"a&b.test", "s<1>", "pass"});
    rows[2].dkim.push_back({"\x01\xff\xc3\xa9.test", "", "none"});  // control, invalid and valid UTF-8
    rows[2].reasons = {"local_policy"};
    const auto reports = aggregate(rows);
    REQUIRE(reports.size() == 1);
    ReportMeta meta{"Org & Co <x>", "postmaster@mx.test", "1700000000.1700086400.sender.test@mx.test", 1700000000,
                    1700086400};
    const std::string xml = render_feedback(meta, reports[0]);
    CHECK(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n", 0) == 0);
    CHECK(xml.find("<script>") == std::string::npos);

    // A real parser: the document must be well-formed, and these paths hold.
    const std::string script =
        "import sys, xml.etree.ElementTree as E\n"
        "r = E.parse(sys.argv[1]).getroot()\n"
        "m = r.find(\"report_metadata\")\n"
        "print(r.tag, [c.tag for c in r])\n"
        "print(m.findtext(\"org_name\"), m.findtext(\"email\"), m.findtext(\"report_id\"),"
        " m.findtext(\"date_range/begin\"), m.findtext(\"date_range/end\"))\n"
        "p = r.find(\"policy_published\")\n"
        "print([(c.tag, c.text) for c in p])\n"
        "for rec in r.findall(\"record\"):\n"
        "  print(rec.findtext(\"row/source_ip\"), rec.findtext(\"row/count\"),"
        " rec.findtext(\"row/policy_evaluated/disposition\"), rec.findtext(\"row/policy_evaluated/dkim\"),"
        " rec.findtext(\"row/policy_evaluated/spf\"), rec.findtext(\"row/policy_evaluated/reason/type\"),"
        " repr(rec.findtext(\"identifiers/header_from\")), rec.findtext(\"identifiers/envelope_from\"))\n"
        "  for d in rec.findall(\"auth_results/dkim\"):\n"
        "    print(\" dkim\", repr(d.findtext(\"domain\")), repr(d.findtext(\"selector\")), d.findtext(\"result\"))\n"
        "  for s in rec.findall(\"auth_results/spf\"):\n"
        "    print(\" spf\", s.findtext(\"domain\"), s.findtext(\"scope\"), s.findtext(\"result\"))\n";
    const std::string out = python_parse(xml, script);
    INFO(xml);
    CHECK(out ==
          "feedback ['report_metadata', 'policy_published', 'record', 'record']\n"
          "Org & Co <x> postmaster@mx.test 1700000000.1700086400.sender.test@mx.test 1700000000 1700086400\n"
          "[('domain', 'sender.test'), ('adkim', 'r'), ('aspf', 'r'), ('p', 'reject'), ('sp', 'reject'), "
          "('pct', '100')]\n"
          "192.0.2.1 2 none pass fail None 'sender.test' sender.test\n"
          " dkim 'sender.test' 'sel' pass\n"
          " spf sender.test mfrom fail\n"
          "2001:db8::1 1 reject fail fail local_policy '<script>&\"x\\'' sender.test\n"
          " dkim 'sender.test' 'sel' fail\n"
          " dkim 'a&b.test' 's<1>' pass\n"
          " dkim '??é.test' None none\n"
          " spf sender.test mfrom fail\n");
}

TEST_CASE("RFC 7489 §7.2.1.1 file name and subject", "[dmarc][aggregate]") {
    DomainReport r;
    r.policy_domain = "sender.test";
    CHECK(report_filename("mx.example.org", r, 1700000000, 1700086400) ==
          "mx.example.org!sender.test!1700000000!1700086400.xml.gz");
    CHECK(report_subject("mx.example.org", "sender.test", "abc@mx.example.org") ==
          "Report Domain: sender.test Submitter: mx.example.org Report-ID: <abc@mx.example.org>");
}
