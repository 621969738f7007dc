// The SMTP server session: inbound sender checks at end of data on the mx
// listener (SPEC §6). Order — the first failure answers:
//   1. From: header rules (dmarc/author)                     550 5.7.1
//   2. DMARC of the author domain (dmarc/dmarc_eval)          550 5.7.1 / 451 4.7.0
//   3. SPF fail without a relaxed-aligned DKIM pass           550 5.7.23
//   4. own-domain spoofing (MAIL FROM or From: an owner's domain,
//      not authenticated for it)                              550 5.7.1
// SPF and DKIM are evaluated first (they feed 2-4); their blocking
// libraries run on the bounded check pool. DNS for DMARC records goes
// through the Resolver on this (the I/O) thread; libopendmarc parses the
// records on the check pool. Then one Authentication-Results header
// (authserv-id = hostname) is added and any claiming that id removed.
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "dmarc/auth_results.hpp"
#include "dmarc/author.hpp"
#include "dmarc/dmarc_eval.hpp"
#include "dmarc/dmarc_record.hpp"
#include "dmarc/header_fields.hpp"
#include "dmarc/public_suffix.hpp"
#include "relay/core/offload.hpp"
#include "relay/server/session_impl.hpp"
#include "relay/smtp/replies.hpp"

namespace mxgate::server {

namespace asio = boost::asio;
namespace replies = smtp::replies;
using core::Event;
using core::Field;

namespace {

int pct_roll() {
    thread_local std::mt19937 gen{std::random_device{}()};
    return static_cast<int>(std::uniform_int_distribution<int>(0, 99)(gen));
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    return out;
}

std::string domain_of(std::string_view address) {
    const size_t at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : lower(address.substr(at + 1));
}

// The owner's domain `d` is, or is a subdomain of (nullptr: none).
const conf::Domain* owner_domain(const conf::Config& cfg, std::string_view d) {
    for (const conf::Domain& o : cfg.domains) {
        if (dmarc::iequals(d, o.name)) return &o;
        if (d.size() > o.name.size() && d[d.size() - o.name.size() - 1] == '.' &&
            dmarc::iequals(d.substr(d.size() - o.name.size()), o.name))
            return &o;
    }
    return nullptr;
}

// What the DMARC record lookup found for one author domain.
struct RecordLookup {
    std::optional<std::string> txt;
    bool at_org = false;
    bool temp_failure = false;
};

}  // namespace

bool Session::inbound_checks_on() const { return listener_.role == conf::ListenerRole::mx; }

asio::awaitable<Session::InboundOutcome> Session::inbound_checks(std::string& header) {
    InboundOutcome out;
    const conf::PolicyConfig& pol = cfg_.policy;
    const dmarc::HeaderBlock headers = dmarc::split_header_block(header);

    // 1. From: rules: the author domain is parsed exactly once, here. They
    // exist for DMARC, so policy.dmarc.enforce: false turns them off too.
    const dmarc::Author author = dmarc::find_author(headers);
    if (!author.ok && pol.dmarc_enforce) {
        out.refuse = replies::author_rejected(author.reason);
        out.reason = author.reason;
        co_return out;
    }

    // SPF and DKIM (dmarc/spf_check, dmarc/dkim_verify on the check pool).
    auto spf_op = evaluate_spf();
    const SpfOutcome spf = co_await std::move(spf_op);
    auto dkim_op = evaluate_dkim();  // reads the spool file
    const DkimOutcome dkim = co_await std::move(dkim_op);
    if (spf.busy || dkim.busy) {
        out.refuse = replies::checks_busy();
        out.reason = "inbound check pool full";
        co_return out;
    }
    if (spf.checked)
        rt_.events->emit(event("policy.spf")
                             .set(Field::sender, tx_.sender)
                             .set(Field::domain, spf.verdict.domain)
                             .set(Field::result, dmarc::to_string(spf.verdict.result))
                             .set(Field::reason, spf.verdict.explanation));
    if (dkim.checked)
        for (const dmarc::DkimVerdict& d : dkim.verdicts)
            rt_.events->emit(event("policy.dkim")
                                 .set(Field::domain, d.domain)
                                 .set(Field::result, d.result == dmarc::DkimResult::pass && !d.covers_body
                                                         ? "policy"
                                                         : dmarc::to_string(d.result))
                                 .set(Field::reason, d.error));

    // The public suffix list: read once, off this thread; after that the
    // cached list is taken here (no hand-off per message).
    const std::string psl_path = pol.public_suffix_list;
    std::shared_ptr<const dmarc::PublicSuffixList> psl = dmarc::cached_public_suffix_list(psl_path);
    if (!psl) {
        auto psl_job = [psl_path]() { return dmarc::load_public_suffix_list(psl_path); };
        auto psl_op = core::offload(rt_.blocking, std::move(psl_job));
        std::shared_ptr<const dmarc::PublicSuffixList> loaded = co_await std::move(psl_op);
        psl = std::move(loaded);
    }
    if (!psl) {
        rt_.events->emit(event("policy.error").set(Field::path, psl_path).set(Field::error, "public suffix list unreadable"));
        out.refuse = replies::policy_temporary_failure("DMARC evaluation unavailable, try again later");
        out.reason = "public suffix list unreadable";
        co_return out;
    }
    const std::function<std::string(std::string_view)> org_of = [psl](std::string_view d) {
        return psl->organizational_domain(lower(d));
    };

    // 2. DMARC for every author domain (one, or several under Sender:);
    // not evaluated at all with policy.dmarc.enforce: false.
    std::vector<dmarc::DmarcVerdict> verdicts;
    const std::vector<std::string> dmarc_domains = pol.dmarc_enforce ? author.domains : std::vector<std::string>{};
    for (const std::string& domain : dmarc_domains) {
        RecordLookup found;
        const std::string org = org_of(domain);
        std::vector<std::string> names{"_dmarc." + domain};
        if (org != domain) names.push_back("_dmarc." + org);
        for (size_t i = 0; i < names.size(); ++i) {
            auto txt_op = core::lookup_txt(*rt_.resolver, names[i]);
            const core::DnsResult<std::string> r = co_await std::move(txt_op);
            if (r.status == core::DnsStatus::temp_fail) {
                found.temp_failure = true;
                break;
            }
            if (r.status == core::DnsStatus::ok) found.txt = dmarc::select_dmarc_record(r.records);
            if (found.txt) {
                found.at_org = i > 0;
                break;
            }
        }
        dmarc::DmarcInput in;
        in.from_domain = domain;
        in.org_of = org_of;
        in.record_at_org = found.at_org;
        in.dns_temp_failure = found.temp_failure;
        in.spf = spf.verdict;
        in.dkim = dkim.verdicts;
        in.pct_roll = pct_roll();
        std::optional<std::string> txt = found.txt;
        // libopendmarc parses the record on the bounded check pool.
        using Evaluated = std::pair<dmarc::DmarcVerdict, std::optional<dmarc::DmarcRecord>>;
        auto eval_job = [in = std::move(in), txt](const dmarc::BlockingDns&) mutable {
            if (txt) in.record = dmarc::parse_dmarc_record(*txt, in.record_error);
            return Evaluated(dmarc::evaluate_dmarc(in), in.record);
        };
        auto eval_op = rt_.checks->run(std::move(eval_job));
        std::optional<Evaluated> evaluated = co_await std::move(eval_op);
        if (!evaluated) {
            out.refuse = replies::checks_busy();
            out.reason = "inbound check pool full";
            co_return out;
        }
        dmarc::DmarcVerdict v = std::move(evaluated->first);
        rt_.events->emit(event("policy.dmarc")
                             .set(Field::domain, domain)
                             .set(Field::result, dmarc::to_string(v.result))
                             .set(Field::policy, v.policy ? dmarc::to_string(*v.policy) : "none")
                             .set(Field::disposition, dmarc::to_string(v.disposition))
                             .set(Field::reason, v.reason));
        // DMARC aggregate reports (session_checks_report.cpp): one row per
        // evaluated message for a domain that publishes rua.
        if (found.txt && evaluated->second) {
            DmarcReportFacts facts{domain, found.at_org ? org : domain, *found.txt, *evaluated->second, v};
            auto rec_op = record_dmarc_report(facts, spf, dkim);
            co_await std::move(rec_op);
        }
        verdicts.push_back(std::move(v));
    }

    bool quarantined = false;
    if (pol.dmarc_enforce) {
        for (const dmarc::DmarcVerdict& v : verdicts) {
            if (v.result == dmarc::DmarcResult::temperror) {
                out.refuse = replies::policy_temporary_failure(v.reason + ", try again later");
                out.reason = v.reason;
                co_return out;
            }
            if (v.result != dmarc::DmarcResult::fail) continue;
            if (v.disposition == dmarc::Disposition::reject ||
                (v.disposition == dmarc::Disposition::quarantine && pol.quarantine == conf::Quarantine::reject)) {
                out.refuse = replies::dmarc_rejected(v.reason);
                out.reason = v.reason;
                co_return out;
            }
            if (v.disposition == dmarc::Disposition::quarantine) quarantined = true;
        }
    }

    // 3. SPF fail, unless a DKIM signature aligned (relaxed) with From: passed.
    if (spf.checked && spf.verdict.result == dmarc::SpfResult::fail) {
        bool dkim_aligned = false, dkim_temp = false;
        for (const dmarc::DkimVerdict& d : dkim.verdicts)
            for (const std::string& domain : author.domains) {
                if (!dmarc::aligned(d.domain, domain, false, org_of)) continue;
                if (d.result == dmarc::DkimResult::pass && d.covers_body) dkim_aligned = true;
                if (d.result == dmarc::DkimResult::temperror) dkim_temp = true;
            }
        if (!dkim_aligned && dkim_temp) {
            // The aligned signature whose key could not be fetched might be
            // the exception: ask again later rather than refuse for good.
            out.reason = "SPF check failed for " + spf.verdict.domain +
                         " and the DKIM key of a signature aligned with From: could not be looked up";
            out.refuse = replies::policy_temporary_failure(out.reason + ", try again later");
            co_return out;
        }
        if (!dkim_aligned) {
            out.reason = "SPF check failed for " + spf.verdict.domain + " and no DKIM signature aligned with From:";
            out.refuse = replies::spf_rejected(out.reason);
            co_return out;
        }
    }

    // 4. Own-domain spoofing: an owner's domain as MAIL FROM or From: needs an
    // aligned SPF/DKIM pass for it, or a pass by an allow-listed third party.
    // Would a pass for `identity` (an SPF or DKIM domain) speak for `d`?
    auto vouches_for = [&](const std::string& identity, const std::string& d) {
        return dmarc::aligned(identity, d, false, org_of) ||
               std::find(pol.own_domain_senders.begin(), pol.own_domain_senders.end(), lower(identity)) !=
                   pol.own_domain_senders.end();
    };
    auto authenticated_for = [&](const std::string& d) {
        if (spf.verdict.result == dmarc::SpfResult::pass && vouches_for(spf.verdict.domain, d)) return true;
        for (const dmarc::DkimVerdict& k : dkim.verdicts)
            if (k.result == dmarc::DkimResult::pass && k.covers_body && vouches_for(k.domain, d)) return true;
        return false;
    };
    // The envelope can only be authenticated by SPF: without an SPF verdict
    // (policy.spf.enabled: false) only the From: domain is checked.
    std::vector<std::pair<std::string, const char*>> claimed;
    if (const std::string env_domain = domain_of(tx_.sender);
        spf.checked && !env_domain.empty() && owner_domain(cfg_, env_domain))
        claimed.emplace_back(env_domain, "MAIL FROM");
    for (const std::string& d : author.domains)
        if (owner_domain(cfg_, d)) claimed.emplace_back(d, "From:");
    // Could an identifier that failed temporarily have authenticated `d`?
    auto maybe_authenticated_for = [&](const std::string& d) {
        if (spf.verdict.result == dmarc::SpfResult::temperror && vouches_for(spf.verdict.domain, d)) return true;
        for (const dmarc::DkimVerdict& k : dkim.verdicts)
            if (k.result == dmarc::DkimResult::temperror && vouches_for(k.domain, d)) return true;
        return false;
    };
    for (const auto& [d, where] : claimed) {
        if (authenticated_for(d)) continue;
        if (maybe_authenticated_for(d)) {
            out.reason = std::string(where) + " claims " + d +
                         ", a domain of this host, and its authentication could not complete (DNS temporary failure)";
            out.refuse = replies::policy_temporary_failure(out.reason + ", try again later");
            co_return out;
        }
        out.reason = std::string(where) + " claims " + d + ", a domain of this host, without authentication";
        out.refuse = replies::spoofing_rejected(out.reason);
        co_return out;
    }

    // Accepted: one Authentication-Results of ours, forged ones removed.
    dmarc::AuthResultsInput ar;
    ar.authserv_id = cfg_.hostname;
    ar.spf_checked = spf.checked;
    ar.spf = spf.verdict;
    ar.dkim_checked = dkim.checked;
    ar.dkim = dkim.verdicts;
    ar.dmarc_checked = !verdicts.empty();
    if (!verdicts.empty()) ar.dmarc = verdicts.front();
    ar.from_domain = author.domains.empty() ? std::string() : author.domains.front();
    out.prepend = dmarc::authentication_results(ar);
    for (size_t i = 1; i < verdicts.size(); ++i) {
        ar.dmarc = verdicts[i];
        ar.from_domain = dmarc_domains[i];
        ar.spf_checked = ar.dkim_checked = false;
        out.prepend += dmarc::authentication_results(ar);
    }
    if (quarantined) {
        if (pol.quarantine == conf::Quarantine::hold)
            out.hold = true;
        else
            out.prepend += "X-Spam-Flag: YES\r\n";
    }
    size_t removed = 0;
    header = dmarc::strip_own_auth_results(header, headers, cfg_.hostname, removed);
    if (removed > 0)
        rt_.events->emit(event("policy.auth_results_removed")
                             .set(Field::count, static_cast<int64_t>(removed))
                             .set(Field::reason, "Authentication-Results claiming this host removed"));
    co_return out;
}

}  // namespace mxgate::server
