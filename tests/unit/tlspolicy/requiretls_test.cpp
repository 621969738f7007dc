// tests/unit/tlspolicy/requiretls_test.cpp — the REQUIRETLS delivery
// decision (tlspolicy/requiretls.hpp, RFC 8689 §4.2.1) as tables of facts
// and expected verdicts.
#include <catch2/catch.hpp>

#include "tlspolicy/requiretls.hpp"

namespace tp = mxgate::tlspolicy;
using mxgate::conf::DownstreamTls;
using mxgate::conf::OutboundLevel;
using mxgate::conf::OutboundTls;

namespace {

std::optional<tp::StsPolicy> sts(tp::StsMode mode) {
    tp::StsPolicy p;
    p.mode = mode;
    p.mx = {"*.mail.example", "mx.exact.example"};
    p.max_age = 86400;
    return p;
}

}  // namespace

TEST_CASE("REQUIRETLS: the MX must be DNSSEC-signed or listed by MTA-STS enforce", "[requiretls]") {
    struct Row {
        bool dnssec;
        std::optional<tp::StsPolicy> policy;
        const char* host;
        bool ok;
    };
    const Row rows[] = {
        {true, std::nullopt, "mx.anything.example", true},              // signed MX answer
        {true, sts(tp::StsMode::testing), "mx.other.example", true},     // DNSSEC alone is enough
        {false, std::nullopt, "mx.anything.example", false},             // neither
        {false, sts(tp::StsMode::enforce), "a.mail.example", true},      // enforce, wildcard match
        {false, sts(tp::StsMode::enforce), "MX.Exact.Example.", true},   // case and trailing dot
        {false, sts(tp::StsMode::enforce), "mx.other.example", false},   // enforce, not listed
        {false, sts(tp::StsMode::enforce), "a.b.mail.example", false},   // wildcard is one label
        {false, sts(tp::StsMode::testing), "a.mail.example", false},     // testing mode binds nothing
        {false, sts(tp::StsMode::none), "a.mail.example", false},
    };
    for (const auto& r : rows) {
        INFO(r.host << " dnssec=" << r.dnssec);
        CHECK(tp::requiretls_mx_validated(r.dnssec, r.policy, r.host) == r.ok);
    }
}

TEST_CASE("REQUIRETLS raises a plan to verify and never lowers it", "[requiretls]") {
    OutboundTls cfg;
    for (OutboundLevel level : {OutboundLevel::none, OutboundLevel::opportunistic, OutboundLevel::encrypt}) {
        cfg.default_level = level;
        const auto d = tp::decide(cfg, "dest.example", {});
        const tp::MxPlan p = tp::requiretls_raise(tp::plan_for_mx(d, "MX1.Dest.Example"), "MX1.Dest.Example");
        CHECK(p.allowed);
        CHECK(p.tls == tp::ClientTls::verify);
        CHECK(p.names == std::vector<std::string>{"mx1.dest.example"});
    }
    // verify with the owner's match list keeps the list.
    cfg.default_level = OutboundLevel::opportunistic;
    mxgate::conf::DomainTlsPolicy pol;
    pol.level = OutboundLevel::verify;
    pol.match = {".bank.example"};
    cfg.policies.emplace("bank.example", pol);
    const auto d = tp::decide(cfg, "bank.example", {});
    const tp::MxPlan p = tp::requiretls_raise(tp::plan_for_mx(d, "mx.bank.example"), "mx.bank.example");
    CHECK(p.tls == tp::ClientTls::verify);
    CHECK(p.names == std::vector<std::string>{".bank.example"});
    // A refused plan (level dane without records) stays refused.
    cfg.default_level = OutboundLevel::dane;
    const auto dd = tp::decide(cfg, "dest.example", {});
    const tp::MxPlan refused = tp::requiretls_raise(tp::plan_for_mx(dd, "mx.dest.example"), "mx.dest.example");
    CHECK_FALSE(refused.allowed);
}

TEST_CASE("REQUIRETLS verdict per session facts (RFC 8689 §4.2.1 codes)", "[requiretls]") {
    struct Row {
        bool tls, auth, offered;
        bool ok;
        const char* status;
    };
    const Row rows[] = {
        {false, false, false, false, "5.7.10"},  // no TLS
        {false, false, true, false, "5.7.10"},   // (REQUIRETLS seen before TLS does not count)
        {true, false, true, false, "5.7.10"},    // TLS, certificate not verified
        {true, true, false, false, "5.7.30"},    // verified, next hop lacks REQUIRETLS
        {true, true, true, true, ""},
    };
    for (const auto& r : rows) {
        INFO("tls=" << r.tls << " auth=" << r.auth << " offered=" << r.offered);
        const auto v = tp::requiretls_verdict({r.tls, r.auth, r.offered});
        CHECK(v.ok == r.ok);
        CHECK(v.status == r.status);
        CHECK(v.reason.empty() == r.ok);
    }
}

TEST_CASE("REQUIRETLS downstream: only verify and pin authenticate the home box", "[requiretls]") {
    CHECK(tp::requiretls_downstream_ok(DownstreamTls::verify));
    CHECK(tp::requiretls_downstream_ok(DownstreamTls::pin));
    CHECK_FALSE(tp::requiretls_downstream_ok(DownstreamTls::encrypt));
    CHECK_FALSE(tp::requiretls_downstream_ok(DownstreamTls::opportunistic));
    CHECK_FALSE(tp::requiretls_downstream_ok(DownstreamTls::none));
}
