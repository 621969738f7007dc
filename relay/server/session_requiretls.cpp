// relay/server/session_requiretls.cpp — REQUIRETLS on the receiving side
// (RFC 8689 §2, §4.1; docs/requiretls.md).
//
// One predicate, requiretls_offered(), decides both the EHLO keyword and
// whether MAIL may carry the parameter (as OpenSMTPD's ADVERTISE_AUTH):
//   - only on a TLS session (the option is valid only over TLS; before
//     STARTTLS the keyword is not in the EHLO reply);
//   - submission: always after TLS — mxgate can honour REQUIRETLS for
//     internet delivery (validated MX, verified TLS, REQUIRETLS next hop);
//   - mx: only when at least one owner domain's downstream uses tls: verify
//     or pin, since mail received there goes only downstream; a RCPT for a
//     domain whose downstream cannot carry it is refused (550 5.7.30)
//     rather than accepted and bounced;
//   - lab: never (it relays nothing).
// The TLS-Required: No header field (RFC 8689 §3) is read on submission
// only (the only mail that goes to internet MX hosts, where recipient-side
// policies apply) and ignored when REQUIRETLS was given (§4.1).
#include "dmarc/header_fields.hpp"
#include "relay/core/ascii.hpp"
#include "relay/server/session_impl.hpp"
#include "tlspolicy/requiretls.hpp"

namespace mxgate::server {

namespace replies = smtp::replies;

bool Session::requiretls_offered() const {
    if (!stream_.tls_active() || lab()) return false;
    if (submission()) return true;
    for (const auto& d : cfg_.domains)
        if (tlspolicy::requiretls_downstream_ok(d.downstream.tls)) return true;
    return false;
}

bool Session::requiretls_may_mail(const smtp::PathArgs& a) {
    if (!a.params.requiretls) return true;
    if (!stream_.tls_active()) {
        const auto r = replies::requiretls_needs_tls();
        reject_event(r, "REQUIRETLS on a plaintext session");
        reply(r);
        return false;
    }
    if (!requiretls_offered()) {
        const auto r = replies::requiretls_not_offered();
        reject_event(r, "REQUIRETLS not offered on this listener");
        reply(r);
        return false;
    }
    return true;
}

bool Session::requiretls_may_rcpt(const conf::Domain* owner_domain) {
    if (!tx_.params.requiretls || !owner_domain) return true;  // not an owner domain: internet delivery
    if (tlspolicy::requiretls_downstream_ok(owner_domain->downstream.tls)) return true;
    const auto r = replies::requiretls_rcpt_refused();
    reject_event(r, "REQUIRETLS: downstream of " + owner_domain->name + " is not verify or pin");
    reply(r);
    return false;
}

// RFC 8689 §3: tls-required-field = "TLS-Required:" [FWS] "No" CRLF; the
// only defined value is "No" (case-insensitive). Anything else, or more
// than one such field, is not a request we act on.
bool Session::tls_required_no() const {
    if (!submission() || tx_.params.requiretls) return false;
    const dmarc::HeaderBlock headers = dmarc::split_header_block(tx_.header);
    const auto fields = headers.all("TLS-Required");
    if (fields.size() != 1) return false;
    std::string_view v = fields.front()->value;
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\r' || v.front() == '\n'))
        v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n'))
        v.remove_suffix(1);
    return core::ascii::iequals(v, "No");
}

}  // namespace mxgate::server
