// tests/unit/tlspolicy/tlsrpt_record_test.cpp — RFC 8460 §3 records.
#include <catch2/catch.hpp>

#include "tlspolicy/tlsrpt_record.hpp"

namespace tp = mxgate::tlspolicy;

namespace {
std::vector<std::string> rua(std::string_view txt) {
    std::string error;
    auto r = tp::parse_tlsrpt_record(txt, error);
    INFO(txt << ": " << error);
    REQUIRE(r);
    return r->rua;
}
std::string refused(std::string_view txt) {
    std::string error;
    auto r = tp::parse_tlsrpt_record(txt, error);
    CHECK_FALSE(r);
    return error;
}
}  // namespace

TEST_CASE("TLS-RPT records: valid forms", "[tlsrpt]") {
    CHECK(rua("v=TLSRPTv1; rua=mailto:reports@example.com") == std::vector<std::string>{"mailto:reports@example.com"});
    CHECK(rua("v=TLSRPTv1;rua=mailto:a@example.net, https://r.example.net/v1/tlsrpt;") ==
          std::vector<std::string>{"mailto:a@example.net", "https://r.example.net/v1/tlsrpt"});
    CHECK(rua("v=TLSRPTv1 ; rua=MAILTO:a@example.net ; future=1") == std::vector<std::string>{"mailto:a@example.net"});
    CHECK(rua("v=TLSRPTv1; rua=HTTPS://r.example/x") == std::vector<std::string>{"https://r.example/x"});
}

TEST_CASE("TLS-RPT records: refused", "[tlsrpt]") {
    CHECK(refused("v=TLSRPTv2; rua=mailto:a@b.example") == "does not start with v=TLSRPTv1");
    CHECK(refused("V=TLSRPTv1; rua=mailto:a@b.example") == "does not start with v=TLSRPTv1");
    CHECK(refused("v=TLSRPTv1") == "no rua field");
    CHECK(refused("v=TLSRPTv1; rua=ftp://b.example/") == "rua URI scheme is neither mailto: nor https:");
    CHECK(refused("v=TLSRPTv1; rua=mailto:nobody") == "rua mailto: URI without an address");
    CHECK(refused("v=TLSRPTv1; rua=https:///x") == "rua https: URI without a host");
    CHECK(refused("v=TLSRPTv1; rua=mailto:a@b.example; rua=mailto:c@d.example") == "more than one rua field");
    CHECK(refused("v=TLSRPTv1 rua=mailto:a@b.example") == "expected ';' between fields");
    CHECK(refused("v=TLSRPTv1; rua=") == "empty rua URI");
    CHECK(refused("v=TLSRPTv1; rua=mailto:a@b.example,") == "empty rua URI");
    CHECK(refused("v=TLSRPTv1; =x; rua=mailto:a@b.example") == "field without name=value");
    CHECK(refused("v=TLSRPTv1; rua=mailto:a@b.example\x01") == "rua URI with a space or control character");
    std::string many = "v=TLSRPTv1; rua=";
    for (int i = 0; i < 17; ++i) many += (i ? "," : "") + std::string("mailto:a@b.example");
    CHECK(refused(many) == "more than 16 rua URIs");
}

TEST_CASE("TLS-RPT record selection and mailto addresses", "[tlsrpt]") {
    std::string error;
    auto r = tp::select_tlsrpt_record({"v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@b.example"}, error);
    REQUIRE(r);
    CHECK(r->rua.size() == 1);
    CHECK_FALSE(tp::select_tlsrpt_record({"v=TLSRPTv1; rua=mailto:a@b.example", "v=TLSRPTv1; rua=mailto:c@b.example"}, error));
    CHECK(error == "more than one v=TLSRPTv1 record");
    CHECK_FALSE(tp::select_tlsrpt_record({"v=spf1 -all"}, error));
    CHECK(error == "no v=TLSRPTv1 record");
    CHECK(tp::tlsrpt_mailto_address("mailto:tls%2Brpt@example.com?subject=x") == "tls+rpt@example.com");
    CHECK(tp::tlsrpt_mailto_address("mailto:a%2Cb@example.com").empty());  // a comma: two addresses
    CHECK(tp::tlsrpt_mailto_address("mailto:a@example.com%").empty());
    CHECK(tp::tlsrpt_mailto_address("https://x/").empty());
}
