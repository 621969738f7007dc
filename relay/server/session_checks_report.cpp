// The SMTP server session: one row per DMARC evaluation for the daily
// aggregate reports (RFC 7489 §7.2; docs/dmarc-reports.md). Called from
// inbound_checks() (session_checks.cpp) right after `policy.dmarc`, for
// messages that will be accepted and for those about to be refused alike.
//
// Only pass/fail verdicts of a domain whose record names a rua are
// recorded (a temperror is answered 451 and the sender retries: it is
// counted when it is decided). The row is appended and fdatasync'ed on
// the blocking pool; a failure to record is logged, never a reason to
// refuse mail.
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "dmarc/report_uri.hpp"
#include "relay/core/ascii.hpp"
#include "relay/core/offload.hpp"
#include "relay/report/dmarc_store.hpp"
#include "relay/server/session_impl.hpp"

namespace mxgate::server {

namespace asio = boost::asio;
using core::Field;

namespace {

const char* dkim_word(const dmarc::DkimVerdict& d) {
    // SPEC §6: a signature whose l= leaves body unsigned counts as none (policy).
    if (d.result == dmarc::DkimResult::pass && !d.covers_body) return "policy";
    return dmarc::to_string(d.result);
}

}  // namespace

asio::awaitable<void> Session::record_dmarc_report(const DmarcReportFacts& f, const SpfOutcome& spf,
                                                   const DkimOutcome& dkim) {
    const conf::DmarcReports& rc = cfg_.policy.dmarc_reports;
    if (!rc.enabled || !rt_.dmarc_reports) co_return;
    const dmarc::DmarcVerdict& v = f.verdict;
    if (v.result != dmarc::DmarcResult::pass && v.result != dmarc::DmarcResult::fail) co_return;
    const std::optional<std::string> rua = dmarc::dmarc_tag(f.record, "rua");
    if (!rua) co_return;
    // A rua naming only URIs mxgate does not use (https:) is recorded all the
    // same: the daily pass then says once per domain why nothing is sent
    // (dmarc.report_skipped), where skipping at this point would be silent.
    const dmarc::RuaList destinations = dmarc::parse_rua_list(*rua);
    if (destinations.usable.empty() && destinations.skipped.empty()) co_return;

    dmarc::ReportRow row;
    row.time = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                   .count();
    row.policy_domain = f.policy_domain;
    row.source_ip = stream_.remote_ip();
    row.header_from = f.header_from;
    const size_t at = tx_.sender.rfind('@');
    row.envelope_from = at == std::string::npos ? std::string() : core::ascii::to_lower(tx_.sender.substr(at + 1));
    // The disposition applied here: quarantine: reject turns a quarantine
    // into a refusal (a local policy, RFC 7489 Appendix C PolicyOverrideType).
    dmarc::Disposition applied = v.result == dmarc::DmarcResult::fail ? v.disposition : dmarc::Disposition::none;
    if (applied == dmarc::Disposition::quarantine && cfg_.policy.quarantine == conf::Quarantine::reject) {
        applied = dmarc::Disposition::reject;
        row.reasons.push_back("local_policy");
    }
    if (v.sampled_out) row.reasons.push_back("sampled_out");
    row.disposition = dmarc::to_string(applied);
    row.dkim_aligned = v.dkim_aligned;
    row.spf_aligned = v.spf_aligned;
    for (const dmarc::DkimVerdict& d : dkim.verdicts)
        if (d.not_evaluated == 0)  // not the summary of signatures beyond the limit
            row.dkim.push_back({d.domain, d.selector, dkim_word(d)});
    if (spf.checked) {
        row.spf_domain = spf.verdict.domain;
        row.spf_scope = spf.verdict.identity == "helo" ? "helo" : "mfrom";
        row.spf_result = dmarc::to_string(spf.verdict.result);
    } else {
        // SPF off (policy.spf.enabled: false): the schema wants one result.
        row.spf_domain = row.envelope_from.empty() ? core::ascii::to_lower(helo_) : row.envelope_from;
        row.spf_scope = row.envelope_from.empty() ? "helo" : "mfrom";
        row.spf_result = "none";
    }
    const dmarc::DmarcRecord& pub = f.published;
    row.p = static_cast<char>(pub.p);
    row.sp = static_cast<char>(pub.sp.value_or(pub.p));
    row.pct = pub.pct;
    row.adkim = pub.adkim_strict ? 's' : 'r';
    row.aspf = pub.aspf_strict ? 's' : 'r';
    row.rua = *rua;

    auto job = [store = rt_.dmarc_reports, row]() { return store->record(row); };
    auto op = core::offload(rt_.blocking, std::move(job));
    const bool ok = co_await std::move(op);
    if (!ok)
        rt_.events->emit(event("dmarc.report_failed")
                             .set(Field::domain, f.policy_domain)
                             .set(Field::reason, "cannot record the evaluation in the spool state"));
}

}  // namespace mxgate::server
