// tlspolicy/tlsrpt_result.hpp — what one outbound SMTP session means for
// TLS-RPT (RFC 8460 §4.3): success, or a failure with its result type and
// a short reason. Pure (no I/O, no OpenSSL): the courier gathers the facts
// of a session, classify_session() decides. Unit-tested in
// tests/unit/tlspolicy/tlsrpt_result_test.cpp; docs/tlsrpt.md has the table.
#pragma once

#include <string>
#include <string_view>

namespace mxgate::tlspolicy {

// RFC 8460 §4.3 policy types.
enum class RptPolicyType { sts, tlsa, no_policy_found };
const char* rpt_policy_type_name(RptPolicyType t);   // "sts", "tlsa", "no-policy-found"

// RFC 8460 §4.3.2 result types, plus success and "not counted".
enum class RptResult {
    success,
    not_counted,                 // not a session TLS-RPT speaks about (no connection, level none)
    starttls_not_supported,
    certificate_host_mismatch,
    certificate_expired,
    certificate_not_trusted,
    validation_failure,
    tlsa_invalid,
    dnssec_invalid,
    dane_required,
    sts_policy_fetch_error,
    sts_policy_invalid,
    sts_webpki_invalid,
};
const char* rpt_result_name(RptResult r);   // "starttls-not-supported", ...; "success", "not-counted"
// The inverse for failure types; not_counted for anything else.
RptResult rpt_result_from_name(std::string_view name);

// Which policy a session was made under, and how it went.
struct SessionFacts {
    RptPolicyType policy = RptPolicyType::no_policy_found;
    bool tls_wanted = true;          // false: level none (the owner chose plaintext)
    // Before connecting
    bool mx_refused = false;         // the policy refused this MX host (MTA-STS pattern mismatch)
    bool dane_defer = false;         // DNSSEC lookups failed where signed answers were expected
    bool dane_required = false;      // level dane, but no DNSSEC-validated TLSA records for the host
    bool tlsa_unusable = false;      // signed TLSA records exist, none usable (RFC 7672 §2.2)
    std::string sts_fetch_error;     // MTA-STS published (TXT) but no policy could be fetched
    // The session
    bool connected = false;          // greeting received
    bool starttls_offered = false;   // in the EHLO reply
    bool starttls_refused = false;   // STARTTLS answered with an error
    bool handshake_failed = false;
    bool established = false;        // TLS handshake completed
    bool chain_verified = false;     // chain verified against the trust store
    std::string verify_error;        // OpenSSL's text when not verified
    bool name_matched = false;       // certificate names the MX host (or the policy's names)
    bool dane_used = false;          // certificate checked against usable TLSA records
    bool dane_matched = false;
    bool sts_mx_matches = true;      // MTA-STS testing: the MX matches the policy
    std::string error;               // TLS error text, if any (becomes the reason)
};

struct Classified {
    RptResult result = RptResult::not_counted;
    std::string reason;              // failure-reason-code ("" when none)
};

// RFC 8460 §4.3 for one session:
//   - sts (enforce or testing): certificate trust, expiry and MX name are
//     checked whatever the level delivered with; an MX outside the policy
//     is a validation-failure ("mx-not-in-policy");
//   - tlsa: DANE match; a failed DNSSEC lookup is dnssec-invalid, a
//     required but missing TLSA is dane-required, unusable records are
//     tlsa-invalid;
//   - no-policy-found: only STARTTLS absence/refusal and failed handshakes
//     are failures (nothing promised a valid certificate);
//   - an MTA-STS domain whose policy could not be fetched: every session is
//     a failure of the fetch's kind (classify_sts_fetch_error).
// Sessions that never reached a greeting are not counted (no TLS question
// was asked), except the refusals decided before connecting.
Classified classify_session(const SessionFacts& f);

// The error of an MTA-STS policy fetch (tlspolicy/mta_sts_fetch.cpp texts)
// as an RFC 8460 result: certificate problems -> sts-webpki-invalid, a body
// that is not a valid policy -> sts-policy-invalid, anything else
// (DNS, connect, HTTP status) -> sts-policy-fetch-error.
RptResult classify_sts_fetch_error(std::string_view error);

}  // namespace mxgate::tlspolicy
