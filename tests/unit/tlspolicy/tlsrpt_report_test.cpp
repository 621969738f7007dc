// TLS-RPT (RFC 8460): session classification, the day aggregate's stored
// form, and the §4.4 JSON report.
#include <catch2/catch.hpp>

#include "tlspolicy/mta_sts.hpp"
#include "tlspolicy/tlsrpt_aggregate.hpp"
#include "tlspolicy/tlsrpt_record.hpp"
#include "tlspolicy/tlsrpt_result.hpp"

using namespace mxgate::tlspolicy;

namespace {
SessionFacts good_tls(RptPolicyType p) {
    SessionFacts f;
    f.policy = p;
    f.connected = true;
    f.starttls_offered = true;
    f.established = true;
    f.chain_verified = true;
    f.name_matched = true;
    return f;
}
const char* name_of(const SessionFacts& f) { return rpt_result_name(classify_session(f).result); }
}  // namespace

TEST_CASE("classify_session: RFC 8460 §4.3 result types") {
    for (auto p : {RptPolicyType::sts, RptPolicyType::tlsa, RptPolicyType::no_policy_found})
        CHECK(classify_session(good_tls(p)).result == RptResult::success);

    SessionFacts f = good_tls(RptPolicyType::sts);
    f.starttls_offered = false;
    f.established = false;
    CHECK(std::string(name_of(f)) == "starttls-not-supported");
    f = good_tls(RptPolicyType::no_policy_found);
    f.starttls_offered = false;
    f.established = false;
    CHECK(std::string(name_of(f)) == "starttls-not-supported");  // also without a policy
    f = good_tls(RptPolicyType::sts);
    f.starttls_refused = true;
    f.established = false;
    f.error = "STARTTLS refused: 454 4.7.0 TLS not available";
    CHECK(classify_session(f).result == RptResult::starttls_not_supported);
    CHECK(classify_session(f).reason == f.error);

    f = good_tls(RptPolicyType::sts);
    f.name_matched = false;
    CHECK(std::string(name_of(f)) == "certificate-host-mismatch");
    f = good_tls(RptPolicyType::sts);
    f.chain_verified = false;
    f.verify_error = "certificate has expired";
    CHECK(std::string(name_of(f)) == "certificate-expired");
    f.verify_error = "unable to get local issuer certificate";
    CHECK(std::string(name_of(f)) == "certificate-not-trusted");
    CHECK(classify_session(f).reason == "unable to get local issuer certificate");
    // Without a policy nothing promised a valid certificate.
    f.policy = RptPolicyType::no_policy_found;
    f.name_matched = false;
    CHECK(classify_session(f).result == RptResult::success);

    f = good_tls(RptPolicyType::no_policy_found);
    f.established = false;
    f.handshake_failed = true;
    f.error = "handshake failure";
    CHECK(std::string(name_of(f)) == "validation-failure");

    f = good_tls(RptPolicyType::sts);
    f.sts_mx_matches = false;  // testing mode: delivered, but outside the policy
    CHECK(classify_session(f).result == RptResult::validation_failure);
    CHECK(classify_session(f).reason == "mx-not-in-policy");
    SessionFacts refused;
    refused.policy = RptPolicyType::sts;
    refused.mx_refused = true;  // enforce: never connected
    CHECK(classify_session(refused).result == RptResult::validation_failure);

    f = good_tls(RptPolicyType::tlsa);
    f.dane_used = true;
    f.dane_matched = false;
    f.error = "DANE: no TLSA record matches";
    CHECK(std::string(name_of(f)) == "tlsa-invalid");
    f.dane_matched = true;
    CHECK(classify_session(f).result == RptResult::success);
    f = good_tls(RptPolicyType::tlsa);
    f.tlsa_unusable = true;
    CHECK(std::string(name_of(f)) == "tlsa-invalid");
    SessionFacts d;
    d.policy = RptPolicyType::tlsa;
    d.dane_defer = true;
    CHECK(std::string(name_of(d)) == "dnssec-invalid");
    d.dane_defer = false;
    d.dane_required = true;
    CHECK(std::string(name_of(d)) == "dane-required");

    SessionFacts s = good_tls(RptPolicyType::sts);
    s.sts_fetch_error = "connect to mta-sts.example.com failed: 127.0.0.1: Connection refused";
    CHECK(std::string(name_of(s)) == "sts-policy-fetch-error");
    s.sts_fetch_error = "certificate of mta-sts.example.com not verified: self-signed certificate";
    CHECK(std::string(name_of(s)) == "sts-webpki-invalid");
    s.sts_fetch_error = "certificate does not name mta-sts.example.com";
    CHECK(std::string(name_of(s)) == "sts-webpki-invalid");
    s.sts_fetch_error = "invalid policy from mta-sts.example.com: missing mode";
    CHECK(std::string(name_of(s)) == "sts-policy-invalid");
    s.sts_fetch_error = "HTTP 404 from mta-sts.example.com";
    CHECK(std::string(name_of(s)) == "sts-policy-fetch-error");

    // Not sessions TLS-RPT speaks about.
    SessionFacts none = good_tls(RptPolicyType::no_policy_found);
    none.tls_wanted = false;
    CHECK(classify_session(none).result == RptResult::not_counted);
    SessionFacts unreached;
    CHECK(classify_session(unreached).result == RptResult::not_counted);
}

TEST_CASE("result names round-trip") {
    for (const char* n : {"starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
                          "certificate-not-trusted", "validation-failure", "tlsa-invalid", "dnssec-invalid",
                          "dane-required", "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid"})
        CHECK(std::string(rpt_result_name(rpt_result_from_name(n))) == n);
    CHECK(rpt_result_from_name("success") == RptResult::not_counted);
    CHECK(rpt_result_from_name("bogus") == RptResult::not_counted);
}

namespace {
RptPolicy sts_policy() {
    StsPolicy p;
    p.mode = StsMode::enforce;
    p.mx = {"*.mail.company-y.example"};
    p.max_age = 86400;
    RptPolicy r;
    r.type = RptPolicyType::sts;
    r.strings = sts_policy_strings(p);
    r.mx_hosts = p.mx;
    return r;
}
}  // namespace

TEST_CASE("day results aggregate, encode and decode") {
    DayResults d;
    const RptPolicy sts = sts_policy();
    CHECK(sts.strings == std::vector<std::string>{"version: STSv1", "mode: enforce", "mx: *.mail.company-y.example",
                                                  "max_age: 86400"});
    RptFailure where{RptResult::validation_failure, "2001:db8:abcd:12::1", "mx1.mail.company-y.example", "203.0.113.56", ""};
    for (int i = 0; i < 5; ++i) d.add(sts, {RptResult::success, ""}, where);
    for (int i = 0; i < 3; ++i) d.add(sts, {RptResult::certificate_expired, "certificate has expired"}, where);
    d.add(sts, {RptResult::starttls_not_supported, ""}, where);
    d.add(sts, {RptResult::not_counted, ""}, where);
    RptPolicy none;
    d.add(none, {RptResult::success, ""}, where);
    RptPolicy tlsa{RptPolicyType::tlsa, {"3 1 1 ab\tcd\\n"}, {"mx2.example"}};
    d.add(tlsa, {RptResult::tlsa_invalid, "bad\r\nreason"}, where);
    REQUIRE(d.policies.size() == 3);
    CHECK(d.policies[sts].successes == 5);
    CHECK(d.policies[sts].failure_total() == 4);
    // Stored text is sanitised: no control characters survive.
    const RptPolicy tlsa_key{RptPolicyType::tlsa, {"3 1 1 ab?cd\\n"}, {"mx2.example"}};
    REQUIRE(d.policies.count(tlsa_key));
    CHECK(d.policies[tlsa_key].failures.begin()->first.reason == "bad??reason");

    const std::string text = encode(d);
    const auto back = decode(text);
    REQUIRE(back);
    CHECK(encode(*back) == text);
    CHECK(back->policies.at(sts).failures.size() == 2);
    CHECK(back->policies.at(none).successes == 1);

    CHECK(decode("")->empty());
    CHECK_FALSE(decode("X\t1\n"));
    CHECK_FALSE(decode("S\t1\n"));                     // counts before a policy
    CHECK_FALSE(decode("P\tsts\t2\ta\t0\n"));          // fewer strings than announced
    CHECK_FALSE(decode("P\tbogus\t0\t0\n"));
    CHECK_FALSE(decode("P\tsts\t0\t0\nF\tsuccess\t\t\t\t\t1\n"));
    CHECK_FALSE(decode("P\tsts\t0\t0\nS\t-1\n"));
    CHECK_FALSE(decode("P\tsts\t1\tbad\\x\t0\n"));
}

TEST_CASE("report JSON has the RFC 8460 §4.4 structure") {
    DayResults d;
    const RptPolicy sts = sts_policy();
    for (int i = 0; i < 2; ++i) d.add(sts, {RptResult::success, ""}, {});
    d.add(sts, {RptResult::certificate_expired, ""},
          {RptResult::validation_failure, "2001:db8:abcd:0012::1", "mx1.mail.company-y.example", "", ""});
    d.add(sts, {RptResult::validation_failure, "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"},
          {RptResult::validation_failure, "198.51.100.62", "mx-backup.mail.company-y.example", "203.0.113.58", ""});
    ReportMeta m;
    m.organization = "Company-X";
    m.contact = "sts-reporting@company-x.example";
    m.report_id = "5065427c-23d3-47ca-b6e0-946ea0e8c4be";
    m.start = *utc_day_start("2016-04-01");
    m.end = m.start + 86399;
    m.policy_domain = "company-y.example";
    const std::string expected =
        "{\"organization-name\":\"Company-X\","
        "\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\",\"end-datetime\":\"2016-04-01T23:59:59Z\"},"
        "\"contact-info\":\"sts-reporting@company-x.example\","
        "\"report-id\":\"5065427c-23d3-47ca-b6e0-946ea0e8c4be\","
        "\"policies\":[{\"policy\":{\"policy-type\":\"sts\","
        "\"policy-string\":[\"version: STSv1\",\"mode: enforce\",\"mx: *.mail.company-y.example\",\"max_age: 86400\"],"
        "\"policy-domain\":\"company-y.example\",\"mx-host\":[\"*.mail.company-y.example\"]},"
        "\"summary\":{\"total-successful-session-count\":2,\"total-failure-session-count\":2},"
        "\"failure-details\":["
        "{\"result-type\":\"certificate-expired\",\"sending-mta-ip\":\"2001:db8:abcd:0012::1\","
        "\"receiving-mx-hostname\":\"mx1.mail.company-y.example\",\"failed-session-count\":1},"
        "{\"result-type\":\"validation-failure\",\"sending-mta-ip\":\"198.51.100.62\","
        "\"receiving-mx-hostname\":\"mx-backup.mail.company-y.example\",\"receiving-ip\":\"203.0.113.58\","
        "\"failed-session-count\":1,\"failure-reason-code\":\"X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED\"}]}]}";
    CHECK(report_json(m, d) == expected);

    // no-policy-found has neither policy-string nor mx-host; strings are escaped.
    DayResults n;
    n.add(RptPolicy{}, {RptResult::success, ""}, {});
    m.organization = "Quote \" and \\ back";
    const std::string j = report_json(m, n);
    CHECK(j.find("\"organization-name\":\"Quote \\\" and \\\\ back\"") != std::string::npos);
    CHECK(j.find("{\"policy-type\":\"no-policy-found\",\"policy-domain\":\"company-y.example\"}") != std::string::npos);
}

TEST_CASE("UTC days and RFC 3339 times") {
    CHECK(utc_day(0) == "1970-01-01");
    CHECK(utc_day(1700000000) == "2023-11-14");
    CHECK(rfc3339_utc(1700000000) == "2023-11-14T22:13:20Z");
    CHECK(utc_day_start("2023-11-14") == 1699920000);
    CHECK_FALSE(utc_day_start("2023-02-30"));
    CHECK_FALSE(utc_day_start("2023-1-14"));
    CHECK_FALSE(utc_day_start("garbage..."));
}

TEST_CASE("https rua URIs") {
    auto u = tlsrpt_https_uri("https://Reports.Example.com/v1/tlsrpt?x=1#frag");
    REQUIRE(u);
    CHECK(u->host == "reports.example.com");
    CHECK(u->port == 443);
    CHECK(u->target == "/v1/tlsrpt?x=1");
    u = tlsrpt_https_uri("https://reports.example.com:8443");
    REQUIRE(u);
    CHECK(u->port == 8443);
    CHECK(u->target == "/");
    CHECK_FALSE(tlsrpt_https_uri("https://user@reports.example.com/"));
    CHECK_FALSE(tlsrpt_https_uri("https://192.0.2.1/"));
    CHECK_FALSE(tlsrpt_https_uri("https://reports.example.com:0/"));
    CHECK_FALSE(tlsrpt_https_uri("https://reports.example.com:99999/"));
    CHECK_FALSE(tlsrpt_https_uri("https://a..b/"));
    CHECK_FALSE(tlsrpt_https_uri("http://reports.example.com/"));
    CHECK_FALSE(tlsrpt_https_uri("https:///x"));
}
