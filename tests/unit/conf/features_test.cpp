// Unit tests for the feature gates (conf/features.cpp): a key that asks for
// an unbuilt capability is refused with "<key>: not supported yet in this
// build" at its value; a value that says the feature is off is accepted.
#include <catch2/catch.hpp>

#include "tests/unit/conf/helpers.hpp"

using namespace mxgate::conf;
using namespace mxgate::conf::test;

namespace {

struct Gated {
    const char* yaml;      // appended to kBase, or kBaseNoTls for tls: (both 4 lines)
    const char* expected;  // the one diagnostic
};

}  // namespace

TEST_CASE("every feature of the contract is built: tlsrpt is the last gate flipped", "[conf][features]") {
    // No gate is left closed (conf/features.cpp); TLS-RPT (RFC 8460) was the
    // last one: its keys are accepted and read as given.
    const auto cfg = load_ok(kBaseNoTls + "tls: {self_signed: true, outbound: {tlsrpt: {enabled: true, "
                                          "organization: example.org, contact: tlsrpt@example.org}}}\n");
    CHECK(cfg->tls.outbound.tlsrpt.enabled);
    CHECK(cfg->tls.outbound.tlsrpt.organization == "example.org");
    CHECK(cfg->tls.outbound.tlsrpt.contact == "tlsrpt@example.org");
    CHECK(errors_of(kBaseNoTls + "tls: {self_signed: true, outbound: {tlsrpt: {enabled: maybe}}}\n").size() == 1);
}

TEST_CASE("DMARC enforcement, quarantine modes and own-domain spoofing are built", "[conf][features]") {
    const auto cfg = load_ok(kBase + "policy:\n  dmarc: {enforce: true, quarantine: hold}\n"
                                     "  own_domain_spoofing: reject\n"
                                     "  own_domain_senders: [News.Example.NET, mailer.example]\n");
    CHECK(cfg->policy.dmarc_enforce);
    CHECK(cfg->policy.quarantine == Quarantine::hold);
    CHECK(cfg->policy.own_domain_senders == std::vector<std::string>{"news.example.net", "mailer.example"});
    CHECK(errors_of(kBase + "policy: {own_domain_senders: ['bad domain']}\n").size() == 1);
}

TEST_CASE("domains[].dkim is built: accepted, its shape still checked", "[conf][features]") {
    const std::string yaml =
        "hostname: mx.example.org\ntls: {self_signed: true}\ndomains:\n"
        "  - {name: example.org, recipients: ['@example.org'], downstream: {address: 'h.example.org:25'},\n"
        "     dkim: {selector: mx1, key: /etc/mxgate/dkim.key}}\n";
    CHECK(errors_of(yaml).empty());
    const std::string no_key =
        "hostname: mx.example.org\ntls: {self_signed: true}\ndomains:\n"
        "  - {name: example.org, recipients: ['@example.org'], downstream: {address: 'h.example.org:25'},\n"
        "     dkim: {selector: mx1}}\n";
    CHECK_FALSE(errors_of(no_key).empty());
}

TEST_CASE("gated sections are still validated in full", "[conf][features]") {
    // A typo inside an unbuilt section is reported too, so enabling it later
    // cannot surface errors that were hidden.
    CHECK(errors_of(kBase + "listeners: [{name: sub, role: submission, address: '[::]:587', tls: implict}]\n") ==
          std::vector<std::string>{
              "t.yaml:5:69: listeners[0].tls: invalid value 'implict' (expected none, starttls or implicit)"});
    CHECK(errors_of(kBase + "auth: {lockout: {failures: 0, window: 15x}}\n") ==
          std::vector<std::string>{
              "t.yaml:5:28: auth.lockout.failures: expected an integer from 1 to 1000000, found '0'",
              "t.yaml:5:39: auth.lockout.window: invalid duration '15x' (expected a whole number and a unit s, m, "
              "h or d, e.g. 30s, 5m, 2h, 5d)"});
    CHECK(errors_of(kBase + "listeners: [{name: lab, role: lab, address: '127.0.0.1:2526', lab: {starttls: rip, "
                            "protocols: [SSLv3]}}]\n") ==
          std::vector<std::string>{
              "t.yaml:5:79: listeners[0].lab.starttls: invalid value 'rip' (expected strip, refuse-454, "
              "fail-handshake or offer)",
              "t.yaml:5:96: listeners[0].lab.protocols[0]: invalid TLS version 'SSLv3' (expected TLSv1, "
              "TLSv1.1, TLSv1.2 or TLSv1.3)"});
    CHECK(errors_of(kBaseNoTls + "tls: {outbound: {policies: {bank.example: {levle: verify}}}}\n") ==
          std::vector<std::string>{
              "t.yaml:5:44: tls.outbound.policies.bank.example.levle: unknown key (did you mean 'level'?)"});
}

TEST_CASE("submission listeners and auth are built (issue 6)", "[conf][features]") {
    const auto cfg = load_ok(kBase +
                             "listeners: [{name: sub, role: submission, address: '[::]:587'},\n"
                             "            {name: subs, role: submission, address: '[::]:465', tls: implicit}]\n"
                             "auth: {lockout: {failures: 3, window: 1m, duration: 5s}, on_cleartext_credentials: log}\n");
    CHECK(cfg->listeners[0].role == ListenerRole::submission);
    CHECK(cfg->auth.lockout_failures == 3);
    CHECK(cfg->auth.lockout_duration == std::chrono::seconds(5));
    CHECK(cfg->auth.on_cleartext_credentials == CleartextAction::log);
    // SPEC §5: a submission listener never takes passwords without TLS.
    CHECK(errors_of(kBase + "listeners: [{name: sub, role: submission, address: '[::]:587', tls: none}]\n") ==
          std::vector<std::string>{"t.yaml:5:69: listeners[0].tls: none is not allowed for role submission (AUTH is "
                                   "only accepted over TLS)"});
}

TEST_CASE("lab listeners are built (issue 5)", "[conf][features]") {
    const auto cfg = load_ok(kBase + "listeners: [{name: lab, role: lab, address: '127.0.0.1:2526', "
                                     "lab: {starttls: refuse-454, protocols: [TLSv1], certificate: expired, "
                                     "auth_trap: true}}]\n");
    REQUIRE(cfg->listeners.size() == 1);
    REQUIRE(cfg->listeners[0].lab);
    CHECK(cfg->listeners[0].role == ListenerRole::lab);
    CHECK(cfg->listeners[0].lab->starttls == LabConfig::StartTls::refuse_454);
    CHECK(cfg->listeners[0].lab->protocols == std::vector<std::string>{"TLSv1"});
    CHECK(cfg->listeners[0].lab->certificate == LabConfig::Certificate::expired);
    CHECK(cfg->listeners[0].lab->auth_trap);
}

TEST_CASE("values that state an unbuilt feature is off are accepted", "[conf][features]") {
    const auto cfg = load_ok(kBaseNoTls +
                             "tls:\n"
                             "  inbound: {require_tls: [], dry_run: null}\n"
                             "  outbound: {default: opportunistic, use_mta_sts: false, use_dane: false,\n"
                             "             policies: {}, tlsrpt: {enabled: false}}\n"
                             "dns: {dnssec: trust-ad}\n"
                             "auth: {}\n"
                             "policy:\n"
                             "  spf: {enabled: false}\n"
                             "  dkim: {verify: false}\n"
                             "  dmarc: {enforce: false, public_suffix_list: /usr/share/publicsuffix/x.dat}\n"
                             "  dnsbl: []\n"
                             "  greylisting: {enabled: false, delay: 10m}\n");
    CHECK_FALSE(cfg->tls.outbound.use_mta_sts);
    CHECK_FALSE(cfg->policy.spf);
    CHECK(cfg->policy.greylisting_delay == std::chrono::minutes(10));
    CHECK(load_ok(kBaseNoTls + "tls: {outbound: {default: none}}\n")->tls.outbound.default_level ==
          OutboundLevel::none);
}

TEST_CASE("dnsbl and greylisting are built (issue 4)", "[conf][features]") {
    const auto cfg = load_ok(kBase + "policy: {dnsbl: [zen.example.test, bl.example.test], "
                                     "greylisting: {enabled: true, delay: 90s}}\n");
    CHECK(cfg->policy.dnsbl == std::vector<std::string>{"zen.example.test", "bl.example.test"});
    CHECK(cfg->policy.greylisting);
    CHECK(cfg->policy.greylisting_delay == std::chrono::seconds(90));
}

TEST_CASE("built outbound TLS keys are accepted (issue 3)", "[conf][features]") {
    for (const char* level : {"encrypt", "verify", "mta-sts"}) {
        INFO(level);
        const auto cfg = load_ok(kBaseNoTls + "tls: {outbound: {default: " + level + "}}\n");
        CHECK(cfg->tls.outbound.default_level >= OutboundLevel::encrypt);
    }
    const auto cfg = load_ok(kBaseNoTls +
                             "tls: {outbound: {use_mta_sts: true, policies: {bank.example: {level: verify, "
                             "match: [.bank.example]}}}}\n");
    CHECK(cfg->tls.outbound.use_mta_sts);
    REQUIRE(cfg->tls.outbound.policies.count("bank.example") == 1);
    CHECK(cfg->tls.outbound.policies.at("bank.example").level == OutboundLevel::verify);
    CHECK(cfg->tls.outbound.policies.at("bank.example").match == std::vector<std::string>{".bank.example"});
}

TEST_CASE("DANE keys are built: level dane, use_dane, dnssec validate", "[conf][features]") {
    CHECK(errors_of(kBaseNoTls + "tls: {outbound: {policies: {x.example: {level: dane}}}}\n").empty());
    CHECK(errors_of(kBaseNoTls + "tls: {outbound: {default: dane, use_dane: true}}\n").empty());
    CHECK(errors_of(kBase + "dns: {dnssec: validate}\n").empty());
    // dns.trust_anchor (extension): with validate only, never silently unused.
    CHECK(errors_of(kBase + "dns: {dnssec: validate, trust_anchor: /tmp/ta.ds}\n").empty());
    CHECK(load_ok(kBase + "dns: {dnssec: validate, trust_anchor: /tmp/ta.ds}\n")->dns.trust_anchor == "/tmp/ta.ds");
    CHECK(load_ok(kBase)->dns.trust_anchor.empty());
    const auto errs = errors_of(kBase + "dns: {dnssec: trust-ad, trust_anchor: /tmp/ta.ds}\n");
    REQUIRE(errs.size() == 1);
    CHECK(errs[0].find("dns.trust_anchor: only used with dnssec: validate") != std::string::npos);
    auto cfg = load_ok(kBase);
    CHECK(cfg->tls.outbound.use_dane);  // the contract default, no longer forced off
}

TEST_CASE("inbound require_tls and dry_run are built (issue 5)", "[conf][features]") {
    const auto cfg = load_ok(kBaseNoTls +
                             "tls:\n"
                             "  inbound: {profile: modern, min_version: TLSv1.3, require_tls: [bank.example, 192.0.2.0/24],\n"
                             "            dry_run: strict}\n");
    CHECK(cfg->tls.inbound.profile.min_version == std::optional<std::string>("TLSv1.3"));
    CHECK(cfg->tls.inbound.require_tls_domains == std::vector<std::string>{"bank.example"});
    REQUIRE(cfg->tls.inbound.require_tls_networks.size() == 1);
    CHECK(cfg->tls.inbound.require_tls_networks[0].text == "192.0.2.0/24");
    REQUIRE(cfg->tls.inbound.dry_run);
    CHECK(cfg->tls.inbound.dry_run->name == TlsProfileName::strict);
    const auto map_form = load_ok(kBaseNoTls + "tls: {inbound: {dry_run: {profile: modern, ciphersuites: TLS_AES_256_GCM_SHA384}}}\n");
    REQUIRE(map_form->tls.inbound.dry_run);
    CHECK(map_form->tls.inbound.dry_run->ciphersuites == std::optional<std::string>("TLS_AES_256_GCM_SHA384"));
}
