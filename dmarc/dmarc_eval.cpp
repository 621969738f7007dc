// dmarc/dmarc_eval.cpp — RFC 7489 §6.6 evaluation of one author domain.
#include "dmarc/dmarc_eval.hpp"

#include "dmarc/header_fields.hpp"

namespace mxgate::dmarc {

bool aligned(std::string_view a, std::string_view b, bool strict,
             const std::function<std::string(std::string_view)>& org_of) {
    if (a.empty() || b.empty()) return false;
    if (iequals(a, b)) return true;
    if (strict) return false;
    return iequals(org_of(a), org_of(b));
}

namespace {

Disposition weaker(Disposition d) {
    return d == Disposition::reject ? Disposition::quarantine : Disposition::none;
}

Disposition disposition_of(DmarcPolicy p) {
    switch (p) {
        case DmarcPolicy::reject: return Disposition::reject;
        case DmarcPolicy::quarantine: return Disposition::quarantine;
        case DmarcPolicy::none: return Disposition::none;
    }
    return Disposition::none;
}

}  // namespace

DmarcVerdict evaluate_dmarc(const DmarcInput& in) {
    DmarcVerdict v;
    if (in.dns_temp_failure) {
        v.result = DmarcResult::temperror;
        v.reason = "DMARC policy of " + in.from_domain + " could not be looked up (DNS temporary failure)";
        return v;
    }
    if (!in.record) {
        v.result = in.record_error.empty() ? DmarcResult::none : DmarcResult::permerror;
        v.reason = in.record_error.empty() ? "no DMARC policy for " + in.from_domain
                                           : in.record_error + " for " + in.from_domain;
        return v;
    }
    const DmarcRecord& r = *in.record;
    const DmarcPolicy policy = in.record_at_org ? r.sp.value_or(r.p) : r.p;
    v.policy = policy;

    bool temp = false;
    if (in.spf.result == SpfResult::pass &&
        aligned(in.spf.domain, in.from_domain, r.aspf_strict, in.org_of))
        v.spf_aligned = true;
    if (in.spf.result == SpfResult::temperror) temp = true;
    for (const DkimVerdict& d : in.dkim) {
        if (d.result == DkimResult::temperror) temp = true;
        if (d.result != DkimResult::pass || !d.covers_body) continue;
        if (aligned(d.domain, in.from_domain, r.adkim_strict, in.org_of)) {
            v.dkim_aligned = true;
            if (v.aligned_dkim_domain.empty()) v.aligned_dkim_domain = d.domain;
        }
    }
    if (v.spf_aligned || v.dkim_aligned) {
        v.result = DmarcResult::pass;
        v.reason = std::string("aligned ") + (v.dkim_aligned ? "DKIM" : "SPF") + " pass for " + in.from_domain;
        return v;
    }
    Disposition d = disposition_of(policy);
    if (temp && d != Disposition::none) {
        v.result = DmarcResult::temperror;
        v.reason = "DMARC check of " + in.from_domain + " could not complete (temporary SPF/DKIM error)";
        return v;
    }
    v.result = DmarcResult::fail;
    if (in.pct_roll >= r.pct && d != Disposition::none) {
        d = weaker(d);
        v.sampled_out = true;
    }
    v.disposition = d;
    v.reason = "DMARC policy of " + in.from_domain + " (" + to_string(policy) +
               (in.record_at_org ? ", the organisational domain's" : "") + ") failed: no aligned SPF or DKIM pass";
    return v;
}

const char* to_string(DmarcResult r) {
    switch (r) {
        case DmarcResult::none: return "none";
        case DmarcResult::pass: return "pass";
        case DmarcResult::fail: return "fail";
        case DmarcResult::temperror: return "temperror";
        case DmarcResult::permerror: return "permerror";
    }
    return "none";
}

const char* to_string(Disposition d) {
    switch (d) {
        case Disposition::none: return "none";
        case Disposition::quarantine: return "quarantine";
        case Disposition::reject: return "reject";
    }
    return "none";
}

}  // namespace mxgate::dmarc
