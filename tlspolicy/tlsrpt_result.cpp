#include "tlspolicy/tlsrpt_result.hpp"

#include <array>
#include <utility>

namespace mxgate::tlspolicy {

namespace {

constexpr std::array<std::pair<RptResult, const char*>, 13> kNames{{
    {RptResult::success, "success"},
    {RptResult::not_counted, "not-counted"},
    {RptResult::starttls_not_supported, "starttls-not-supported"},
    {RptResult::certificate_host_mismatch, "certificate-host-mismatch"},
    {RptResult::certificate_expired, "certificate-expired"},
    {RptResult::certificate_not_trusted, "certificate-not-trusted"},
    {RptResult::validation_failure, "validation-failure"},
    {RptResult::tlsa_invalid, "tlsa-invalid"},
    {RptResult::dnssec_invalid, "dnssec-invalid"},
    {RptResult::dane_required, "dane-required"},
    {RptResult::sts_policy_fetch_error, "sts-policy-fetch-error"},
    {RptResult::sts_policy_invalid, "sts-policy-invalid"},
    {RptResult::sts_webpki_invalid, "sts-webpki-invalid"},
}};

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

Classified fail(RptResult r, std::string reason) { return Classified{r, std::move(reason)}; }

// Certificate verdicts shared by sts (and a failed DANE-less check).
Classified certificate_verdict(const SessionFacts& f) {
    if (!f.chain_verified) {
        // X509_V_ERR_CERT_HAS_EXPIRED's text is "certificate has expired".
        if (contains(f.verify_error, "expired")) return fail(RptResult::certificate_expired, f.verify_error);
        return fail(RptResult::certificate_not_trusted, f.verify_error);
    }
    if (!f.name_matched) return fail(RptResult::certificate_host_mismatch, "certificate does not name the MX host");
    return {RptResult::success, ""};
}

}  // namespace

const char* rpt_policy_type_name(RptPolicyType t) {
    switch (t) {
        case RptPolicyType::sts: return "sts";
        case RptPolicyType::tlsa: return "tlsa";
        case RptPolicyType::no_policy_found: return "no-policy-found";
    }
    return "no-policy-found";
}

const char* rpt_result_name(RptResult r) {
    for (const auto& [k, n] : kNames)
        if (k == r) return n;
    return "not-counted";
}

RptResult rpt_result_from_name(std::string_view name) {
    for (const auto& [k, n] : kNames)
        if (name == n && k != RptResult::success) return k;
    return RptResult::not_counted;
}

RptResult classify_sts_fetch_error(std::string_view e) {
    if (contains(e, "certificate") || contains(e, "TLS handshake")) return RptResult::sts_webpki_invalid;
    if (contains(e, "invalid policy") || contains(e, "media type") || contains(e, "exceeds"))
        return RptResult::sts_policy_invalid;
    return RptResult::sts_policy_fetch_error;
}

Classified classify_session(const SessionFacts& f) {
    if (!f.tls_wanted) return {};
    // Decided before any connection.
    if (!f.sts_fetch_error.empty()) {
        // The domain publishes MTA-STS but we could not learn its policy.
        return fail(classify_sts_fetch_error(f.sts_fetch_error), f.sts_fetch_error);
    }
    if (f.dane_defer) return fail(RptResult::dnssec_invalid, f.error);
    if (f.dane_required) return fail(RptResult::dane_required, f.error);
    if (f.mx_refused) return fail(RptResult::validation_failure, "mx-not-in-policy");
    if (!f.connected) return {};

    if (!f.starttls_offered) return fail(RptResult::starttls_not_supported, "");
    if (f.starttls_refused) return fail(RptResult::starttls_not_supported, f.error);
    if (f.handshake_failed || !f.established) return fail(RptResult::validation_failure, f.error);

    switch (f.policy) {
        case RptPolicyType::tlsa:
            if (f.tlsa_unusable) return fail(RptResult::tlsa_invalid, "no usable TLSA record");
            if (f.dane_used && !f.dane_matched) return fail(RptResult::tlsa_invalid, f.error);
            return {RptResult::success, ""};
        case RptPolicyType::sts: {
            Classified c = certificate_verdict(f);
            if (c.result != RptResult::success) return c;
            if (!f.sts_mx_matches) return fail(RptResult::validation_failure, "mx-not-in-policy");
            return c;
        }
        case RptPolicyType::no_policy_found:
            return {RptResult::success, ""};
    }
    return {};
}

}  // namespace mxgate::tlspolicy
