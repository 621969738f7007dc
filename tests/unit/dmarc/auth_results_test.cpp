// Tests for dmarc/auth_results: the header mxgate adds and the removal of
// forged ones claiming its authserv-id.
#include <catch2/catch.hpp>

#include <string>

#include "dmarc/auth_results.hpp"

using namespace mxgate::dmarc;

TEST_CASE("Authentication-Results: rendering") {
    AuthResultsInput in;
    in.authserv_id = "mx.example.org";
    in.spf_checked = true;
    in.spf.result = SpfResult::pass;
    in.spf.identity = "mailfrom";
    in.spf.domain = "bank.test";
    in.dkim_checked = true;
    DkimVerdict d;
    d.result = DkimResult::pass;
    d.domain = "bank.test";
    d.selector = "s1;dkim=pass";
    in.dkim = {d};
    in.dmarc_checked = true;
    in.dmarc.result = DmarcResult::pass;
    in.dmarc.policy = DmarcPolicy::reject;
    in.from_domain = "bank.test";
    CHECK(authentication_results(in) ==
          "Authentication-Results: mx.example.org;\r\n"
          "\tspf=pass smtp.mailfrom=bank.test;\r\n"
          "\tdkim=pass header.d=bank.test header.s=s1?dkim?pass;\r\n"
          "\tdmarc=pass (p=reject dis=none) header.from=bank.test\r\n");
    AuthResultsInput none;
    none.authserv_id = "mx.example.org";
    CHECK(authentication_results(none) == "Authentication-Results: mx.example.org; none\r\n");
}

TEST_CASE("Authentication-Results: authserv-id extraction") {
    CHECK(authserv_id_of(" mx.example.org; spf=pass") == "mx.example.org");
    CHECK(authserv_id_of(" (forged (nested)) MX.example.org 1; none") == "MX.example.org");
    CHECK(authserv_id_of("mx.example.org;") == "mx.example.org");
    CHECK(authserv_id_of("   ") == "");
}

TEST_CASE("Authentication-Results: only ours are removed, everything else byte-identical") {
    const std::string msg =
        "Authentication-Results: mx.example.org; dkim=pass header.d=bank.test\r\n"
        "Received: from x\r\n"
        "authentication-results: other.example; spf=fail\r\n"
        "Authentication-Results: (c) MX.EXAMPLE.ORG;\r\n\tdmarc=pass\r\n"
        "From: a@bank.test\r\n"
        "\r\n"
        "Authentication-Results: mx.example.org; in the body stays\r\n";
    size_t removed = 0;
    const std::string out = strip_own_auth_results(msg, split_header_block(msg), "mx.example.org", removed);
    CHECK(removed == 2);
    CHECK(out ==
          "Received: from x\r\n"
          "authentication-results: other.example; spf=fail\r\n"
          "From: a@bank.test\r\n"
          "\r\n"
          "Authentication-Results: mx.example.org; in the body stays\r\n");
}

TEST_CASE("Authentication-Results: signatures beyond the verifier's limit are one comment") {
    AuthResultsInput in;
    in.authserv_id = "mx.example.org";
    in.dkim_checked = true;
    DkimVerdict pass;
    pass.result = DkimResult::pass;
    pass.domain = "bank.test";
    pass.selector = "s1";
    DkimVerdict rest;
    rest.result = DkimResult::policy;
    rest.covers_body = false;
    rest.not_evaluated = 5;
    rest.error = "5 more signatures not evaluated, the limit is 10 (x\\y)";
    in.dkim = {pass, rest};
    CHECK(authentication_results(in) ==
          "Authentication-Results: mx.example.org;\r\n"
          "\tdkim=pass header.d=bank.test header.s=s1;\r\n"
          "\tdkim=policy (5 more signatures not evaluated, the limit is 10 ?x?y?)\r\n");
}

TEST_CASE("Authentication-Results: a forged one folded before our id is removed too") {
    const std::string msg =
        "Authentication-Results:\r\n\tmx.example.org;\r\n dkim=pass header.d=bank.test\r\n"
        "Authentication-Results: (a (nested) comment)\r\n (and another) mx.example.org; spf=pass\r\n"
        "Authentication-Results: mx.example.org.evil.test; spf=pass\r\n"
        "From: a@bank.test\r\n"
        "\r\n"
        "body\r\n";
    size_t removed = 0;
    const std::string out = strip_own_auth_results(msg, split_header_block(msg), "mx.example.org", removed);
    CHECK(removed == 2);
    CHECK(out ==
          "Authentication-Results: mx.example.org.evil.test; spf=pass\r\n"
          "From: a@bank.test\r\n"
          "\r\n"
          "body\r\n");
}
