// policy.dmarc.reports (docs/dmarc-reports.md): defaults, values, errors.
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace mxgate::conf;
using namespace mxgate::conf::test;

TEST_CASE("policy.dmarc.reports is off by default", "[conf][dmarc_reports]") {
    const auto cfg = load_ok(kBase);
    CHECK_FALSE(cfg->policy.dmarc_reports.enabled);
    CHECK(cfg->policy.dmarc_reports.contact.empty());
}

TEST_CASE("policy.dmarc.reports values are read", "[conf][dmarc_reports]") {
    const auto cfg = load_ok(kBase +
                             "policy:\n"
                             "  dmarc:\n"
                             "    reports: {enabled: true, organization: Example Org, contact: Postmaster@Example.ORG,\n"
                             "              from: dmarc-reports@example.org}\n");
    const DmarcReports& r = cfg->policy.dmarc_reports;
    CHECK(r.enabled);
    CHECK(r.organization == "Example Org");
    CHECK(r.contact == "postmaster@example.org");
    CHECK(r.from == "dmarc-reports@example.org");
}

TEST_CASE("policy.dmarc.reports errors name file, line and column", "[conf][dmarc_reports]") {
    SECTION("contact is required when enabled") {
        const auto e = errors_of(kBase + "policy:\n  dmarc:\n    reports: {enabled: true}\n");
        REQUIRE(e.size() == 1);
        CHECK(e[0] == "t.yaml:7:14: policy.dmarc.reports.contact: required when enabled (the address report "
                      "receivers can write to)");
    }
    SECTION("not enabled: contact may be absent") {
        CHECK(errors_of(kBase + "policy:\n  dmarc:\n    reports: {enabled: false}\n").empty());
    }
    SECTION("a bad address") {
        const auto e = errors_of(kBase + "policy:\n  dmarc:\n    reports: {enabled: true, contact: nobody}\n");
        REQUIRE(e.size() == 1);
        CHECK(e[0].rfind("t.yaml:7:39: policy.dmarc.reports.contact: invalid address 'nobody'", 0) == 0);
    }
    SECTION("a bad from and a bad boolean") {
        const auto e = errors_of(kBase +
                                 "policy:\n  dmarc:\n    reports:\n      enabled: yes-please\n"
                                 "      contact: a@example.org\n      from: '@example.org'\n");
        REQUIRE(e.size() == 2);
        CHECK(e[0].rfind("t.yaml:8:16: policy.dmarc.reports.enabled", 0) == 0);
        CHECK(e[1].rfind("t.yaml:10:13: policy.dmarc.reports.from: invalid address", 0) == 0);
    }
    SECTION("reports need DMARC evaluation") {
        const auto e = errors_of(kBase + "policy:\n  dmarc:\n    enforce: false\n"
                                         "    reports: {enabled: true, contact: a@example.org}\n");
        REQUIRE(e.size() == 1);
        CHECK(e[0].rfind("t.yaml:8:14: policy.dmarc.reports.enabled: needs policy.dmarc.enforce: true", 0) == 0);
    }
    SECTION("an unknown key") {
        const auto e = errors_of(kBase + "policy:\n  dmarc:\n    reports: {enabled: false, contacts: a@b.org}\n");
        REQUIRE(e.size() == 1);
        CHECK(e[0].find("policy.dmarc.reports.contacts") != std::string::npos);
    }
    SECTION("organization must be one printable line") {
        const auto e = errors_of(kBase + "policy:\n  dmarc:\n    reports: {organization: \"a\\nb\"}\n");
        REQUIRE(e.size() == 1);
        CHECK(e[0].find("control characters") != std::string::npos);
    }
}
