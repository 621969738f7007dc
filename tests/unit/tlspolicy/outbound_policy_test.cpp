// tests/unit/tlspolicy/outbound_policy_test.cpp — level resolution and the
// per-MX plan (tlspolicy/outbound_policy.hpp).
#include <catch2/catch.hpp>

#include "tlspolicy/outbound_policy.hpp"

namespace tp = mxgate::tlspolicy;
using mxgate::conf::DomainTlsPolicy;
using mxgate::conf::OutboundLevel;
using mxgate::conf::OutboundTls;

namespace {

tp::StsPolicy sts(tp::StsMode mode) {
    tp::StsPolicy p;
    p.mode = mode;
    p.mx = {"*.mail.example"};
    p.max_age = 86400;
    return p;
}

tp::PolicyInputs with(tp::StsMode mode) {
    tp::PolicyInputs in;
    in.sts = sts(mode);
    in.sts_id = "1";
    return in;
}

}  // namespace

TEST_CASE("default level from config", "[outbound-policy]") {
    OutboundTls cfg;
    cfg.use_mta_sts = false;
    const auto d = tp::decide(cfg, "Example.COM.", {});
    CHECK(d.domain == "example.com");
    CHECK(d.level == OutboundLevel::opportunistic);
    CHECK(d.source == tp::PolicySource::config);
    CHECK_FALSE(tp::wants_mta_sts(cfg, "example.com"));
    const auto plan = tp::plan_for_mx(d, "mx.example.com");
    CHECK(plan.allowed);
    CHECK(plan.tls == tp::ClientTls::opportunistic);
}

TEST_CASE("per-domain policies win over default and MTA-STS", "[outbound-policy]") {
    OutboundTls cfg;
    cfg.default_level = OutboundLevel::encrypt;
    DomainTlsPolicy bank;
    bank.level = OutboundLevel::verify;
    bank.match = {".bank.example"};
    bank.profile = mxgate::conf::TlsProfile{mxgate::conf::TlsProfileName::strict, {}, {}, {}, {}};
    cfg.policies["bank.example"] = bank;
    DomainTlsPolicy legacy;
    legacy.level = OutboundLevel::opportunistic;
    cfg.policies["legacy.example"] = legacy;

    CHECK_FALSE(tp::wants_mta_sts(cfg, "legacy.example"));
    CHECK(tp::wants_mta_sts(cfg, "other.example"));
    auto d = tp::decide(cfg, "bank.example", with(tp::StsMode::enforce));
    CHECK(d.level == OutboundLevel::verify);
    CHECK(d.source == tp::PolicySource::config);
    CHECK(d.own_profile);
    CHECK(d.profile.name == mxgate::conf::TlsProfileName::strict);
    auto plan = tp::plan_for_mx(d, "mx1.bank.example");
    CHECK(plan.tls == tp::ClientTls::verify);
    CHECK(plan.names == std::vector<std::string>{".bank.example"});

    d = tp::decide(cfg, "legacy.example", with(tp::StsMode::enforce));
    CHECK(d.level == OutboundLevel::opportunistic);
    d = tp::decide(cfg, "other.example", {});
    CHECK(d.level == OutboundLevel::encrypt);
    CHECK(tp::plan_for_mx(d, "mx.other.example").tls == tp::ClientTls::encrypt);
    CHECK(tls_mandatory(d.level));
}

TEST_CASE("verify without match checks the MX host name", "[outbound-policy]") {
    OutboundTls cfg;
    cfg.default_level = OutboundLevel::verify;
    const auto plan = tp::plan_for_mx(tp::decide(cfg, "x.example", {}), "MX.x.example");
    CHECK(plan.names == std::vector<std::string>{"mx.x.example"});
}

TEST_CASE("MTA-STS enforce overrides a weaker default", "[outbound-policy]") {
    OutboundTls cfg;  // opportunistic, use_mta_sts
    auto d = tp::decide(cfg, "example.com", with(tp::StsMode::enforce));
    CHECK(d.level == OutboundLevel::mta_sts);
    CHECK(d.source == tp::PolicySource::mta_sts);
    auto ok = tp::plan_for_mx(d, "a.mail.example");
    CHECK(ok.allowed);
    CHECK(ok.tls == tp::ClientTls::verify);
    CHECK(ok.names == std::vector<std::string>{"a.mail.example"});
    auto bad = tp::plan_for_mx(d, "evil.example");
    CHECK_FALSE(bad.allowed);
    CHECK(bad.refusal.find("does not match") != std::string::npos);

    cfg.use_mta_sts = false;
    d = tp::decide(cfg, "example.com", with(tp::StsMode::enforce));
    CHECK(d.level == OutboundLevel::opportunistic);
    CHECK_FALSE(d.sts);
}

TEST_CASE("MTA-STS testing never changes delivery, only reports", "[outbound-policy]") {
    OutboundTls cfg;
    auto d = tp::decide(cfg, "example.com", with(tp::StsMode::testing));
    CHECK(d.level == OutboundLevel::opportunistic);
    CHECK(d.sts_testing);
    CHECK(tp::plan_for_mx(d, "evil.example").allowed);
    CHECK(tp::testing_would_fail(d, "evil.example", true));
    CHECK(tp::testing_would_fail(d, "a.mail.example", false));
    CHECK_FALSE(tp::testing_would_fail(d, "a.mail.example", true));
    d = tp::decide(cfg, "example.com", with(tp::StsMode::none));
    CHECK_FALSE(d.sts);
    CHECK(d.level == OutboundLevel::opportunistic);
}

TEST_CASE("configured mta-sts without an enforce policy defers", "[outbound-policy]") {
    OutboundTls cfg;
    cfg.default_level = OutboundLevel::mta_sts;
    CHECK(tp::wants_mta_sts(cfg, "example.com"));
    for (const auto& in : {tp::PolicyInputs{}, with(tp::StsMode::testing), with(tp::StsMode::none)}) {
        const auto d = tp::decide(cfg, "example.com", in);
        CHECK(d.level == OutboundLevel::mta_sts);
        CHECK_FALSE(tp::plan_for_mx(d, "a.mail.example").allowed);
    }
    const auto d = tp::decide(cfg, "example.com", with(tp::StsMode::enforce));
    CHECK(tp::plan_for_mx(d, "a.mail.example").allowed);
}

TEST_CASE("level dane cannot be met without DANE inputs", "[outbound-policy]") {
    OutboundTls cfg;
    cfg.default_level = OutboundLevel::dane;
    CHECK_FALSE(tp::plan_for_mx(tp::decide(cfg, "example.com", {}), "mx.example.com").allowed);
}

TEST_CASE("level and source names", "[outbound-policy]") {
    CHECK(std::string(tp::level_name(OutboundLevel::mta_sts)) == "mta-sts");
    CHECK(std::string(tp::source_name(tp::PolicySource::mta_sts)) == "mta-sts");
    CHECK(std::string(tp::source_name(tp::PolicySource::config)) == "config");
}
