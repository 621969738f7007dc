// tlspolicy/dane.hpp — DANE for outbound SMTP (RFC 7672): the lookups and
// OpenSSL's DANE verifier. The decisions themselves are pure
// (tlspolicy/dane_rules.hpp).
//
// Use, per MX host (docs/dane.md):
//
//   if (dane_wanted(level, cfg.use_dane)) {
//       DanePlan plan = co_await lookup_dane(resolver, mx_host);
//       DaneEffect eff = dane_effect(level, plan);      // defer / encrypt / dane_verify / keep
//       ...
//       // before the handshake (dane_verify only):
//       arm_dane(ssl, plan, error);                     // SNI = base domain
//       // after it:
//       DaneVerdict v = dane_verdict(ssl);              // v.ok or defer with v.error
//   }
//
// The client context must have DANE enabled once (make_client_context does
// it: enable_dane(ctx)).
//
// SECURITY: DNSSEC status comes from the Resolver (dns.dnssec: trust-ad
// believes the AD bit of a local validating resolver; validate has
// libunbound validate). Only DANE-TA(2) and DANE-EE(3) records are given
// to OpenSSL; DANE-EE skips name checks (RFC 7672 §3.1.1), DANE-TA checks
// the base domain and MX host names (§3.2.2). No PKIX trust store is
// involved in a DANE verdict.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
#include <string>

#include "relay/core/resolver.hpp"
#include "tlspolicy/dane_rules.hpp"

namespace mxgate::tlspolicy {

// Looks up the host's A (then AAAA) records, and if they are secure the
// TLSA records at _25._tcp.<host> — at the secure CNAME target first when
// the host is an alias (RFC 7672 §2.2.2) — and decides.
boost::asio::awaitable<DanePlan> lookup_dane(core::Resolver& resolver, std::string host);

// SSL_CTX_dane_enable once per client context; false + error on failure.
bool enable_dane(SSL_CTX* ctx, std::string& error);

// Before the handshake: SSL_dane_enable(base domain; also the SNI name),
// the MX host as a further reference name, DANE-EE without name checks,
// and every usable record. False + error when OpenSSL accepted none.
bool arm_dane(SSL* ssl, const DanePlan& plan, std::string& error);

struct DaneVerdict {
    bool ok = false;
    std::string matched;   // "3 1 1 <hex>" of the record that matched
    std::string error;     // why not, e.g. "no TLSA record matches the certificate"
};
// After a completed handshake on an armed SSL.
DaneVerdict dane_verdict(SSL* ssl);

}  // namespace mxgate::tlspolicy
