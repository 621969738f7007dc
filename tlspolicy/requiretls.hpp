// tlspolicy/requiretls.hpp — the delivery rules for a message that carries
// REQUIRETLS (RFC 8689), as pure functions the couriers call.
//
// Interface:
//   requiretls_mx_validated(mx_dnssec, sts, host)  RFC 8689 §4.2.1 step 2:
//       may this MX host carry the message at all? Yes when the MX answer
//       was DNSSEC-authenticated, or an MTA-STS policy in enforce mode lists
//       the host.
//   requiretls_raise(plan, host)  REQUIRETLS raises the TLS a plan asks for
//       to authenticated TLS (verify, names = the plan's or the MX host);
//       it never lowers a plan, and a plan the policy refused stays refused.
//   requiretls_verdict(facts)  after the session is open (TLS, EHLO done):
//       may MAIL FROM ... REQUIRETLS be sent? Otherwise the RFC 8689 status
//       (5.7.10 no/unauthenticated TLS, 5.7.30 no REQUIRETLS offered).
//   requiretls_downstream_ok(mode)  a home-box downstream can carry a
//       REQUIRETLS message only under tls: verify or pin (authenticated).
//
// Every refusal is permanent (RFC 8689 §4.2.1: after the last MX host
// "the client MUST NOT transmit the message" and sends a non-delivery
// notification); connection failures that are not about TLS stay
// transient (RFC 5321 retry rules), and that split is the courier's.
// docs/requiretls.md gives the full table and the reasons.
//
// SECURITY: the facts come from our own DNS and TLS checks; nothing here
// reads peer bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "conf/config.hpp"
#include "tlspolicy/mta_sts.hpp"
#include "tlspolicy/outbound_policy.hpp"

namespace mxgate::tlspolicy {

bool requiretls_mx_validated(bool mx_dnssec, const std::optional<StsPolicy>& sts, std::string_view mx_host);

MxPlan requiretls_raise(MxPlan plan, std::string_view mx_host);

struct RequireTlsFacts {
    bool tls_established = false;   // the session runs over TLS
    bool authenticated = false;     // the certificate was verified (PKIX + name, a pin, or DANE)
    bool peer_requiretls = false;   // the EHLO reply after TLS offered REQUIRETLS
};

struct RequireTlsVerdict {
    bool ok = false;                // send MAIL FROM ... REQUIRETLS
    std::string status;             // RFC 3463 code when refused: "5.7.10" or "5.7.30"
    std::string reason;             // why, for the DSN
};

RequireTlsVerdict requiretls_verdict(const RequireTlsFacts& f);

bool requiretls_downstream_ok(conf::DownstreamTls mode);

}  // namespace mxgate::tlspolicy
