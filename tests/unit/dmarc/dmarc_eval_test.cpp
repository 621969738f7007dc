// Tests for dmarc/public_suffix, dmarc/dmarc_record (libopendmarc) and
// dmarc/dmarc_eval: organisational domains, record parsing, alignment,
// p/sp inheritance, pct, temperror.
#include <catch2/catch.hpp>

#include <string>

#include "dmarc/dmarc_eval.hpp"
#include "dmarc/dmarc_record.hpp"
#include "dmarc/public_suffix.hpp"

using namespace mxgate::dmarc;

namespace {

const PublicSuffixList& psl() {
    static const PublicSuffixList l = PublicSuffixList::parse(
        "// comment\ncom\nuk\nco.uk\n*.ck\n!www.ck\nexample\n");
    return l;
}

std::string org(std::string_view d) { return psl().organizational_domain(d); }

DmarcRecord rec(std::string_view txt) {
    std::string err;
    const auto r = parse_dmarc_record(txt, err);
    REQUIRE(r.has_value());
    return *r;
}

DmarcInput input(std::string from, std::string_view txt, bool at_org = false) {
    DmarcInput in;
    in.from_domain = std::move(from);
    in.org_of = org;
    in.record = rec(txt);
    in.record_at_org = at_org;
    return in;
}

DkimVerdict dkim_pass(std::string d) {
    DkimVerdict v;
    v.result = DkimResult::pass;
    v.domain = std::move(d);
    v.selector = "s1";
    return v;
}

SpfVerdict spf(SpfResult r, std::string d) {
    SpfVerdict v;
    v.result = r;
    v.domain = std::move(d);
    v.identity = "mailfrom";
    return v;
}

}  // namespace

TEST_CASE("public suffix list: organisational domains") {
    CHECK(org("mail.bank.com") == "bank.com");
    CHECK(org("bank.com") == "bank.com");
    CHECK(org("a.b.bank.co.uk") == "bank.co.uk");
    CHECK(org("co.uk") == "co.uk");
    CHECK(org("a.b.foo.ck") == "b.foo.ck");  // *.ck: foo.ck is a suffix
    CHECK(org("a.www.ck") == "www.ck");      // !www.ck
    // Under no listed suffix: the last two labels (SPEC §6).
    CHECK(org("x.sub.bank.test") == "bank.test");
    CHECK(org("bank.test") == "bank.test");
}

TEST_CASE("public suffix list: Debian's file loads and knows co.uk") {
    const auto l = load_public_suffix_list("/usr/share/publicsuffix/public_suffix_list.dat");
    REQUIRE(l);
    CHECK(l->organizational_domain("mail.example.co.uk") == "example.co.uk");
    CHECK(l->organizational_domain("a.b.example.com") == "example.com");
    CHECK(load_public_suffix_list("/nonexistent/psl.dat") == nullptr);
}

TEST_CASE("DMARC record: selection and parsing through libopendmarc") {
    CHECK(is_dmarc_record("v=DMARC1; p=reject"));
    CHECK(is_dmarc_record("v = DMARC1 ;p=none"));
    CHECK_FALSE(is_dmarc_record("p=reject; v=DMARC1"));  // the library would accept this one
    CHECK_FALSE(is_dmarc_record("v=DMARC10; p=reject"));
    CHECK_FALSE(is_dmarc_record("v=spf1 -all"));
    CHECK(select_dmarc_record({"v=spf1 -all", "v=DMARC1; p=none"}) == std::optional<std::string>("v=DMARC1; p=none"));
    CHECK_FALSE(select_dmarc_record({"v=DMARC1; p=none", "v=DMARC1; p=reject"}));  // two: none applies

    const DmarcRecord r = rec("v=DMARC1; p=reject; sp=none; adkim=s; aspf=s; pct=50");
    CHECK(r.p == DmarcPolicy::reject);
    CHECK(r.sp == DmarcPolicy::none);
    CHECK(r.pct == 50);
    CHECK(r.adkim_strict);
    CHECK(r.aspf_strict);
    const DmarcRecord d = rec("v=DMARC1; p=quarantine");
    CHECK_FALSE(d.sp.has_value());
    CHECK(d.pct == 100);
    CHECK_FALSE(d.adkim_strict);

    std::string err;
    CHECK_FALSE(parse_dmarc_record("v=DMARC1; p=bogus", err));
    CHECK_FALSE(parse_dmarc_record("v=DMARC1", err));
    CHECK(err == "DMARC record without p=");
    CHECK_FALSE(parse_dmarc_record("v=DMARC1; p=reject; pct=200", err));
}

TEST_CASE("DMARC: relaxed and strict alignment") {
    DmarcInput in = input("bank.com", "v=DMARC1; p=reject");
    in.dkim = {dkim_pass("mail.bank.com")};
    CHECK(evaluate_dmarc(in).result == DmarcResult::pass);

    in = input("bank.com", "v=DMARC1; p=reject; adkim=s");
    in.dkim = {dkim_pass("mail.bank.com")};
    CHECK(evaluate_dmarc(in).result == DmarcResult::fail);
    // The case libopendmarc 1.4.2 gets wrong (dmarc_library_test.cpp):
    // d= is the parent of the From: domain, strict → not aligned.
    in = input("sub.bank.com", "v=DMARC1; p=reject; adkim=s", true);
    in.dkim = {dkim_pass("bank.com")};
    const DmarcVerdict v = evaluate_dmarc(in);
    CHECK(v.result == DmarcResult::fail);
    CHECK(v.disposition == Disposition::reject);

    in = input("bank.com", "v=DMARC1; p=reject; aspf=s");
    in.spf = spf(SpfResult::pass, "bounce.bank.com");
    CHECK(evaluate_dmarc(in).result == DmarcResult::fail);
    in.spf = spf(SpfResult::pass, "Bank.COM");
    CHECK(evaluate_dmarc(in).result == DmarcResult::pass);

    in = input("bank.com", "v=DMARC1; p=reject");
    in.spf = spf(SpfResult::pass, "bounce.bank.com");
    CHECK(evaluate_dmarc(in).spf_aligned);
    in.spf = spf(SpfResult::pass, "evil.com");
    CHECK(evaluate_dmarc(in).result == DmarcResult::fail);
}

TEST_CASE("DMARC: l= short of the body and non-pass signatures never align") {
    DmarcInput in = input("bank.com", "v=DMARC1; p=reject");
    DkimVerdict partial = dkim_pass("bank.com");
    partial.covers_body = false;
    in.dkim = {partial};
    CHECK(evaluate_dmarc(in).result == DmarcResult::fail);
    DkimVerdict failed = dkim_pass("bank.com");
    failed.result = DkimResult::fail;
    in.dkim = {failed, dkim_pass("evil.com")};
    CHECK(evaluate_dmarc(in).result == DmarcResult::fail);
    in.dkim.push_back(dkim_pass("bank.com"));
    const DmarcVerdict v = evaluate_dmarc(in);
    CHECK(v.result == DmarcResult::pass);
    CHECK(v.aligned_dkim_domain == "bank.com");
}

TEST_CASE("DMARC: p for the domain itself, sp (or inherited p) for subdomains") {
    DmarcInput in = input("bank.com", "v=DMARC1; p=reject; sp=none");
    CHECK(evaluate_dmarc(in).disposition == Disposition::reject);
    in = input("sub.bank.com", "v=DMARC1; p=reject; sp=none", true);
    CHECK(evaluate_dmarc(in).disposition == Disposition::none);
    CHECK(evaluate_dmarc(in).result == DmarcResult::fail);
    in = input("sub.bank.com", "v=DMARC1; p=reject", true);  // no sp: inherits p
    CHECK(evaluate_dmarc(in).disposition == Disposition::reject);
    in = input("sub.bank.com", "v=DMARC1; p=none; sp=quarantine", true);
    CHECK(evaluate_dmarc(in).disposition == Disposition::quarantine);
    // A record published at the subdomain itself uses its p.
    in = input("sub.bank.com", "v=DMARC1; p=reject; sp=none", false);
    CHECK(evaluate_dmarc(in).disposition == Disposition::reject);
}

TEST_CASE("DMARC: pct samples, outside the sample the next weaker policy") {
    DmarcInput in = input("bank.com", "v=DMARC1; p=reject; pct=30");
    in.pct_roll = 29;
    CHECK(evaluate_dmarc(in).disposition == Disposition::reject);
    in.pct_roll = 30;
    DmarcVerdict v = evaluate_dmarc(in);
    CHECK(v.disposition == Disposition::quarantine);
    CHECK(v.sampled_out);
    in = input("bank.com", "v=DMARC1; p=quarantine; pct=0");
    in.pct_roll = 0;
    CHECK(evaluate_dmarc(in).disposition == Disposition::none);
    in = input("bank.com", "v=DMARC1; p=reject; pct=100");
    in.pct_roll = 99;
    CHECK(evaluate_dmarc(in).disposition == Disposition::reject);
}

TEST_CASE("DMARC: temporary failures are never a pass or a reject") {
    DmarcInput in;
    in.from_domain = "bank.com";
    in.org_of = org;
    in.dns_temp_failure = true;
    CHECK(evaluate_dmarc(in).result == DmarcResult::temperror);

    in = input("bank.com", "v=DMARC1; p=reject");
    in.spf = spf(SpfResult::temperror, "bank.com");
    CHECK(evaluate_dmarc(in).result == DmarcResult::temperror);
    in.dkim = {dkim_pass("bank.com")};
    CHECK(evaluate_dmarc(in).result == DmarcResult::pass);  // a pass needs nothing else

    in = input("bank.com", "v=DMARC1; p=none");
    in.spf = spf(SpfResult::temperror, "bank.com");
    CHECK(evaluate_dmarc(in).result == DmarcResult::fail);  // p=none: nothing to enforce, report fail

    DmarcInput none;
    none.from_domain = "bank.com";
    none.org_of = org;
    CHECK(evaluate_dmarc(none).result == DmarcResult::none);
    none.record_error = "invalid DMARC record";
    CHECK(evaluate_dmarc(none).result == DmarcResult::permerror);
    CHECK(evaluate_dmarc(none).disposition == Disposition::none);
}

TEST_CASE("DMARC: a DKIM temperror matters only when no aligned pass exists") {
    DkimVerdict temp;
    temp.result = DkimResult::temperror;
    temp.domain = "bank.com";
    temp.selector = "broken";
    DkimVerdict failed = dkim_pass("bank.com");
    failed.result = DkimResult::fail;

    // Either order: the aligned pass decides, the temperror is only reported.
    DmarcInput in = input("bank.com", "v=DMARC1; p=reject");
    in.dkim = {temp, dkim_pass("bank.com")};
    CHECK(evaluate_dmarc(in).result == DmarcResult::pass);
    in.dkim = {dkim_pass("bank.com"), temp};
    CHECK(evaluate_dmarc(in).result == DmarcResult::pass);

    // No aligned pass: the temperror might have been one → 451, not 550.
    in.dkim = {temp, failed};
    DmarcVerdict v = evaluate_dmarc(in);
    CHECK(v.result == DmarcResult::temperror);
    CHECK(v.disposition == Disposition::none);
    // ... and never a silent pass on quarantine either.
    in = input("bank.com", "v=DMARC1; p=quarantine");
    in.dkim = {failed, temp};
    CHECK(evaluate_dmarc(in).result == DmarcResult::temperror);
    // A pass for another domain does not align: still temperror.
    in = input("bank.com", "v=DMARC1; p=reject");
    in.dkim = {temp, dkim_pass("other.org")};
    CHECK(evaluate_dmarc(in).result == DmarcResult::temperror);
}
