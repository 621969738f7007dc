// tlspolicy/outbound_policy.cpp — see outbound_policy.hpp.
#include "tlspolicy/outbound_policy.hpp"
#include "relay/core/ascii.hpp"

namespace mxgate::tlspolicy {

using conf::OutboundLevel;

namespace {

const conf::DomainTlsPolicy* find_policy(const conf::OutboundTls& cfg, std::string_view domain) {
    auto it = cfg.policies.find(core::ascii::domain_key(domain));
    return it == cfg.policies.end() ? nullptr : &it->second;
}

}  // namespace

const char* source_name(PolicySource s) {
    switch (s) {
        case PolicySource::config: return "config";
        case PolicySource::mta_sts: return "mta-sts";
        case PolicySource::dane: return "dane";
    }
    return "config";
}

const char* level_name(OutboundLevel l) {
    switch (l) {
        case OutboundLevel::none: return "none";
        case OutboundLevel::opportunistic: return "opportunistic";
        case OutboundLevel::encrypt: return "encrypt";
        case OutboundLevel::verify: return "verify";
        case OutboundLevel::dane: return "dane";
        case OutboundLevel::mta_sts: return "mta-sts";
    }
    return "none";
}

const char* client_tls_name(ClientTls t) {
    switch (t) {
        case ClientTls::none: return "none";
        case ClientTls::opportunistic: return "opportunistic";
        case ClientTls::encrypt: return "encrypt";
        case ClientTls::verify: return "verify";
    }
    return "none";
}

bool wants_mta_sts(const conf::OutboundTls& cfg, std::string_view domain) {
    const conf::DomainTlsPolicy* p = find_policy(cfg, domain);
    const OutboundLevel level = p ? p->level : cfg.default_level;
    if (level == OutboundLevel::mta_sts) return true;
    // Testing-mode reporting and the enforce override both need the policy,
    // but only for domains the owner did not configure explicitly.
    return !p && cfg.use_mta_sts;
}

OutboundDecision decide(const conf::OutboundTls& cfg, std::string_view domain, const PolicyInputs& in) {
    OutboundDecision d;
    d.domain = core::ascii::domain_key(domain);
    d.profile = cfg.profile;
    const conf::DomainTlsPolicy* p = find_policy(cfg, d.domain);
    if (p) {
        d.configured = true;
        d.level = p->level;
        d.match = p->match;
        if (p->profile) {
            d.profile = *p->profile;
            d.own_profile = true;
        }
    } else {
        d.level = cfg.default_level;
    }
    d.source = PolicySource::config;

    // DANE hook (RFC 8461 §2: DANE takes precedence over MTA-STS): when the
    // dane module finds usable TLSA records it sets level dane / source dane
    // here, before MTA-STS is considered, and returns.

    const bool sts_usable = in.sts && in.sts->mode != StsMode::none;
    if (d.level == OutboundLevel::mta_sts) {
        // Configured mta-sts: the policy is required; a testing or missing
        // policy leaves d.sts empty and plan_for_mx() refuses (defer).
        if (sts_usable && in.sts->mode == StsMode::enforce) d.sts = in.sts;
        else if (sts_usable) {
            d.sts = in.sts;
            d.sts_testing = true;
        }
        d.source = PolicySource::config;
        return d;
    }
    if (!p && cfg.use_mta_sts && sts_usable) {
        if (in.sts->mode == StsMode::enforce && d.level < OutboundLevel::mta_sts) {
            d.level = OutboundLevel::mta_sts;
            d.source = PolicySource::mta_sts;
            d.sts = in.sts;
        } else if (in.sts->mode == StsMode::testing) {
            d.sts = in.sts;
            d.sts_testing = true;
        }
    }
    return d;
}

MxPlan plan_for_mx(const OutboundDecision& d, std::string_view mx_host) {
    MxPlan plan;
    const std::string host = core::ascii::domain_key(mx_host);
    switch (d.level) {
        case OutboundLevel::none: plan.tls = ClientTls::none; break;
        case OutboundLevel::opportunistic: plan.tls = ClientTls::opportunistic; break;
        case OutboundLevel::encrypt: plan.tls = ClientTls::encrypt; break;
        case OutboundLevel::verify:
            plan.tls = ClientTls::verify;
            plan.names = d.match.empty() ? std::vector<std::string>{host} : d.match;
            break;
        case OutboundLevel::dane:
            // Filled in by the DANE module; without it the level cannot be met.
            plan.allowed = false;
            plan.refusal = "level dane for " + d.domain + ": no usable DANE TLSA records";
            break;
        case OutboundLevel::mta_sts:
            if (!d.sts || d.sts_testing) {
                plan.allowed = false;
                plan.refusal = "level mta-sts for " + d.domain + ": no MTA-STS policy in enforce mode";
                break;
            }
            // RFC 8461 §4.1-4.2: the MX must match a policy pattern and its
            // certificate must be valid for the MX host name.
            if (!sts_policy_allows_mx(*d.sts, host)) {
                plan.allowed = false;
                plan.refusal = "MX " + host + " does not match the MTA-STS policy of " + d.domain;
                break;
            }
            plan.tls = ClientTls::verify;
            plan.names = {host};
            break;
    }
    return plan;
}

bool testing_would_fail(const OutboundDecision& d, std::string_view mx_host, bool tls_ok) {
    if (!d.sts || !d.sts_testing) return false;
    return !sts_policy_allows_mx(*d.sts, core::ascii::domain_key(mx_host)) || !tls_ok;
}

}  // namespace mxgate::tlspolicy
