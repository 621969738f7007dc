// tlspolicy/outbound_policy.hpp — which TLS a delivery to a destination
// domain must have (SPEC §7), and what that means for each MX host.
//
// Two steps, both pure:
//   1. decide(cfg, domain, inputs) -> OutboundDecision: the effective level
//      and its source (config | mta-sts | dane), the certificate names
//      (`match`), the cipher profile, and the MTA-STS policy in force.
//      `inputs` carries what was discovered for the domain (MTA-STS policy
//      from mta_sts_resolve(); DANE adds its own member there).
//   2. plan_for_mx(decision, mx_host) -> MxPlan: whether this MX may be used
//      at all (MTA-STS enforce: only matching MX hosts) and the client TLS
//      mode and names for the connection.
//
// Precedence (docs/outbound-tls.md):
//   - a per-domain `tls.outbound.policies` entry is the owner's explicit
//     choice and wins over everything discovered;
//   - otherwise `default`; with use_mta_sts an MTA-STS policy in enforce mode
//     raises a weaker default to mta-sts (source mta-sts);
//   - DANE (RFC 7672), when usable, takes precedence over MTA-STS
//     (RFC 8461 §2) — the DANE module hooks in here (see decide()).
//   - a configured level of mta-sts (or dane) without a usable policy
//     cannot be satisfied: the plan refuses and the delivery defers.
// A mandatory level (conf::tls_mandatory) never falls back to plaintext.
// MTA-STS testing mode never changes how we deliver; it only makes the
// caller report would_fail (testing_would_fail()).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"
#include "tlspolicy/mta_sts.hpp"

namespace mxgate::tlspolicy {

enum class PolicySource { config, mta_sts, dane };
const char* source_name(PolicySource s);
const char* level_name(conf::OutboundLevel l);  // "none" ... "mta-sts"

// What discovery found for a destination domain (filled by the caller).
struct PolicyInputs {
    std::optional<StsPolicy> sts;  // a valid MTA-STS policy (fresh or cached), any mode
    std::string sts_id;            // its TXT id, for events
    // DANE: the dane module adds its inputs here (e.g. usable TLSA records).
};

struct OutboundDecision {
    std::string domain;
    conf::OutboundLevel level = conf::OutboundLevel::opportunistic;
    PolicySource source = PolicySource::config;
    std::vector<std::string> match;   // names for verify; empty = the MX host name
    conf::TlsProfile profile;          // the policy's profile, else outbound.profile
    bool own_profile = false;          // profile came from a per-domain policy
    std::optional<StsPolicy> sts;      // MTA-STS policy in force (enforce when level is mta-sts)
    bool sts_testing = false;          // a testing-mode policy to report against
    bool configured = false;           // a per-domain policies entry exists
};

// True when the domain's decision can depend on MTA-STS, so the caller
// should run discovery (TXT + fetch/cache) before decide().
bool wants_mta_sts(const conf::OutboundTls& cfg, std::string_view domain);

OutboundDecision decide(const conf::OutboundTls& cfg, std::string_view domain, const PolicyInputs& in);

// Client TLS behaviour for one connection.
enum class ClientTls { none, opportunistic, encrypt, verify };
const char* client_tls_name(ClientTls t);

struct MxPlan {
    bool allowed = true;              // false: do not connect to this MX; `refusal` says why
    std::string refusal;
    ClientTls tls = ClientTls::opportunistic;
    std::vector<std::string> names;   // verify: the certificate must match one (".x" = subdomains)
    bool operator==(const MxPlan& o) const { return allowed == o.allowed && tls == o.tls && names == o.names; }
};
MxPlan plan_for_mx(const OutboundDecision& d, std::string_view mx_host);

// MTA-STS testing mode (RFC 8461 §5): would enforce have refused this
// delivery? mx_allowed: the MX matched the policy; tls_ok: TLS was
// established with a chain verified against the trust store and a
// certificate naming the MX host.
bool testing_would_fail(const OutboundDecision& d, std::string_view mx_host, bool tls_ok);

}  // namespace mxgate::tlspolicy
