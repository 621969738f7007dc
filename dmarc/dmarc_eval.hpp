// dmarc/dmarc_eval.hpp — DMARC evaluation (RFC 7489 §6.6) of one author
// domain, from mxgate's own SPF and DKIM verdicts.
//
// Pure code. Why not opendmarc_get_policy_to_enforce(): Debian 12's
// libopendmarc 1.4.2 passes strict DKIM alignment when d= is a parent of
// the From: domain (d=bank.example, From: x@sub.bank.example, adkim=s →
// PASS; tests/unit/dmarc/dmarc_library_test.cpp shows it). mxgate uses the
// library to parse records (dmarc/dmarc_record.hpp) and decides here:
//   - alignment: strict = the same name, relaxed = the same organisational
//     domain; SPF counts when it passed for MAIL FROM's domain (or the HELO
//     identity for the null sender); DKIM counts only for a pass that covers
//     the whole body (SPEC §6: l= short of the body is no signature);
//   - policy: p when the record was found at the From: domain, sp (absent:
//     p) when it came from the organisational domain (subdomain inheritance);
//   - pct: a failing message outside the sample gets the next weaker policy
//     (reject → quarantine → none, RFC 7489 §6.6.4);
//   - a failure where an identifier gave temperror is temperror (451), never
//     a pass and never a reject.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "dmarc/dmarc_record.hpp"
#include "dmarc/verdicts.hpp"

namespace mxgate::dmarc {

enum class DmarcResult { none, pass, fail, temperror, permerror };
enum class Disposition { none, quarantine, reject };

struct DmarcInput {
    std::string from_domain;  // lower-case author domain
    std::function<std::string(std::string_view)> org_of;  // organisational domain
    std::optional<DmarcRecord> record;  // nullopt: no record (or invalid: record_error set)
    bool record_at_org = false;         // found at the organisational domain, not the From: domain
    std::string record_error;           // invalid record → permerror, no policy
    bool dns_temp_failure = false;      // the record lookup failed temporarily
    SpfVerdict spf;
    DkimVerdicts dkim;
    int pct_roll = 0;                   // uniform 0..99; the message is sampled when roll < pct
};

struct DmarcVerdict {
    DmarcResult result = DmarcResult::none;
    std::optional<DmarcPolicy> policy;  // the policy that applied (p or sp), if a record applied
    Disposition disposition = Disposition::none;
    bool sampled_out = false;           // pct spared this message the full policy
    bool spf_aligned = false;
    bool dkim_aligned = false;
    std::string aligned_dkim_domain;    // d= of the aligned passing signature, if any
    std::string reason;                 // short text for logs and the 550 reply
};

DmarcVerdict evaluate_dmarc(const DmarcInput& in);

// Identifier alignment (RFC 7489 §3.1).
bool aligned(std::string_view a, std::string_view b, bool strict,
             const std::function<std::string(std::string_view)>& org_of);

const char* to_string(DmarcResult r);
const char* to_string(Disposition d);

}  // namespace mxgate::dmarc
