// tlspolicy/requiretls.cpp — see requiretls.hpp.
#include "tlspolicy/requiretls.hpp"

#include "relay/core/ascii.hpp"

namespace mxgate::tlspolicy {

// RFC 8689 §4.2.1 step 2: an MX answer without a DNSSEC signature must be
// backed by the recipient domain's MTA-STS policy (RFC 8461 §4.1), and only
// an enforce-mode policy says anything binding; testing mode is a report.
bool requiretls_mx_validated(bool mx_dnssec, const std::optional<StsPolicy>& sts, std::string_view mx_host) {
    if (mx_dnssec) return true;
    return sts && sts->mode == StsMode::enforce && sts_policy_allows_mx(*sts, core::ascii::domain_key(mx_host));
}

// RFC 8689 §4.2.1 step 4: the certificate must be authenticated (RFC 6125
// with the MX host name, or RFC 7672 DANE). A plan already at verify keeps
// its names (a `match` list is the owner's stricter choice); DANE plans are
// decided by the caller (they authenticate through TLSA, not PKIX).
MxPlan requiretls_raise(MxPlan plan, std::string_view mx_host) {
    if (!plan.allowed) return plan;
    if (plan.tls < ClientTls::verify) {
        plan.tls = ClientTls::verify;
        if (plan.names.empty()) plan.names = {core::ascii::domain_key(mx_host)};
    }
    return plan;
}

RequireTlsVerdict requiretls_verdict(const RequireTlsFacts& f) {
    RequireTlsVerdict v;
    // Table in RFC 8689 §4.2.1 (docs/requiretls.md): no TLS or no
    // authenticated certificate is X.7.10 "Encryption needed"; a next hop
    // that does not offer REQUIRETLS is X.7.30 "REQUIRETLS support required".
    if (!f.tls_established) {
        v.status = "5.7.10";
        v.reason = "REQUIRETLS: no TLS session with the next hop";
    } else if (!f.authenticated) {
        v.status = "5.7.10";
        v.reason = "REQUIRETLS: the next hop's certificate was not verified";
    } else if (!f.peer_requiretls) {
        v.status = "5.7.30";
        v.reason = "REQUIRETLS support required: the next hop does not offer REQUIRETLS";
    } else {
        v.ok = true;
    }
    return v;
}

bool requiretls_downstream_ok(conf::DownstreamTls mode) {
    return mode == conf::DownstreamTls::verify || mode == conf::DownstreamTls::pin;
}

}  // namespace mxgate::tlspolicy
