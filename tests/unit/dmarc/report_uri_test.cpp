// rua URIs, size limits and the external-destination record (dmarc/report_uri).
#include <catch2/catch.hpp>

#include "dmarc/report_uri.hpp"

using namespace mxgate::dmarc;

TEST_CASE("dmarc_tag finds one tag of a record", "[dmarc][rua]") {
    const std::string rec = "v=DMARC1; p=reject; RUA = mailto:a@x.test , mailto:b@y.test!10m ; ruf=mailto:f@x.test";
    CHECK(dmarc_tag(rec, "rua") == std::optional<std::string>("mailto:a@x.test , mailto:b@y.test!10m"));
    CHECK(dmarc_tag(rec, "p") == std::optional<std::string>("reject"));
    CHECK_FALSE(dmarc_tag(rec, "sp"));
    CHECK_FALSE(dmarc_tag("v=DMARC1; p=none", "rua"));
    CHECK(dmarc_tag("v=DMARC1;rua=mailto:a@x.test;rua=mailto:b@x.test", "rua") ==
          std::optional<std::string>("mailto:a@x.test"));
}

TEST_CASE("parse_rua: mailto only, size limits in powers of 2^10", "[dmarc][rua]") {
    const auto u = parse_rua("mailto:dmarc@Reports.TEST, mailto:big@x.test!10m,https://h.test/r,mailto:k@x.test!512k,"
                             "mailto:n@x.test!7");
    REQUIRE(u.size() == 4);
    CHECK(u[0].address == "dmarc@reports.test");
    CHECK(u[0].domain == "reports.test");
    CHECK(u[0].max_size == 0);
    CHECK(u[1].max_size == 10ull * 1024 * 1024);
    CHECK(u[2].address == "k@x.test");
    CHECK(u[2].max_size == 512ull * 1024);
    CHECK(u[3].max_size == 7);
}

TEST_CASE("parse_report_uri refuses what cannot be a plain recipient", "[dmarc][rua]") {
    CHECK_FALSE(parse_report_uri("mailto:"));
    CHECK_FALSE(parse_report_uri("mailto:nobody"));
    CHECK_FALSE(parse_report_uri("mailto:a@b"));                 // one label
    CHECK_FALSE(parse_report_uri("mailto:a@x.test!"));           // empty size
    CHECK_FALSE(parse_report_uri("mailto:a@x.test!10x"));        // bad unit
    CHECK_FALSE(parse_report_uri("mailto:a@x.test!0"));
    CHECK_FALSE(parse_report_uri("mailto:a@x.test!99999999999999999t"));
    CHECK_FALSE(parse_report_uri("mailto:a%0D%0ARCPT%20TO:b@x.test"));  // CR LF smuggled
    CHECK_FALSE(parse_report_uri("mailto:a@x.test%0A"));
    CHECK_FALSE(parse_report_uri("mailto:\"a b\"@x.test"));
    CHECK_FALSE(parse_report_uri("mailto:a@x.test%2"));
    CHECK_FALSE(parse_report_uri("mailto:a..b@x.test"));
    CHECK_FALSE(parse_report_uri("mailto:a@-x.test"));
    CHECK_FALSE(parse_report_uri("mailto:a@x.test,b@y.test"));   // a second address
    // hfields end the address; %-escapes are decoded; MAILTO in any case.
    const auto q = parse_report_uri("MAILTO:a%2Bb@x.test?subject=hi");
    REQUIRE(q);
    CHECK(q->address == "a+b@x.test");
}

TEST_CASE("parse_rua keeps at most four distinct URIs", "[dmarc][rua]") {
    const auto u = parse_rua("mailto:a@x.test,mailto:a@x.test,mailto:b@x.test,mailto:c@x.test,mailto:d@x.test,"
                             "mailto:e@x.test");
    REQUIRE(u.size() == kMaxReportUris);
    CHECK(u[0].address == "a@x.test");
    CHECK(u[1].address == "b@x.test");
    CHECK(parse_rua("").empty());
    CHECK(parse_rua(",,,").empty());
}

TEST_CASE("external destination authorisation (RFC 7489 §7.1)", "[dmarc][rua]") {
    CHECK(report_authorization_name("sender.test", "reports.example") == "sender.test._report._dmarc.reports.example");
    CHECK(authorizes_reports({"v=DMARC1"}));
    CHECK(authorizes_reports({"other", "v = DMARC1 ; rua=mailto:x@y.test"}));
    CHECK_FALSE(authorizes_reports({}));
    CHECK_FALSE(authorizes_reports({"v=DMARC2"}));
    CHECK_FALSE(authorizes_reports({"v=DMARC1x"}));
    CHECK_FALSE(authorizes_reports({"v=spf1 -all"}));
}

TEST_CASE("parse_rua_list says what it skipped and why", "[dmarc][rua]") {
    const RuaList l = parse_rua_list(" https://reports.example/dmarc , mailto:a@x.test, HTTP://h.test/r ,mailto:nobody,"
                                     "junk,mailto:b@x.test");
    REQUIRE(l.usable.size() == 2);
    CHECK(l.usable[0].address == "a@x.test");
    CHECK(l.usable[1].address == "b@x.test");
    REQUIRE(l.skipped.size() == 4);
    CHECK(l.skipped[0].uri == "https://reports.example/dmarc");
    CHECK(l.skipped[0].reason.find("only mailto:") != std::string::npos);
    CHECK(l.skipped[0].reason.find("https: skipped") != std::string::npos);
    CHECK(l.skipped[1].uri == "HTTP://h.test/r");
    CHECK(l.skipped[1].reason.find("http: skipped") != std::string::npos);
    CHECK(l.skipped[2].uri == "mailto:nobody");
    CHECK(l.skipped[2].reason.find("mailto") != std::string::npos);
    CHECK(l.skipped[3].reason == "not a URI");
    // parse_rua is the usable part.
    CHECK(parse_rua(" https://reports.example/dmarc , mailto:a@x.test").size() == 1);
    // Only https: → nothing usable, one skipped; empty entries are not "skipped".
    const RuaList h = parse_rua_list("https://r.example/x,,");
    CHECK(h.usable.empty());
    CHECK(h.skipped.size() == 1);
    CHECK(parse_rua_list(",, ,").skipped.empty());
    // What is shown is printable and bounded, whatever the record holds.
    const RuaList w = parse_rua_list("https://r.example/\x01" + std::string(300, 'a'));
    REQUIRE(w.skipped.size() == 1);
    CHECK(w.skipped[0].uri.size() <= kMaxShownUri + 3);
    CHECK(w.skipped[0].uri.find('\x01') == std::string::npos);
}
