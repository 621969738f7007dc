// relay/report/dmarc_sender.cpp — see dmarc_sender.hpp.
#include "relay/report/dmarc_sender.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <ctime>
#include <map>
#include <set>

#include "dmarc/public_suffix.hpp"
#include "dmarc/report_uri.hpp"
#include "relay/core/gzip.hpp"
#include "relay/core/offload.hpp"
#include "relay/core/resolver.hpp"
#include "relay/core/utc_time.hpp"
#include "relay/queue/local_message.hpp"
#include "relay/queue/mime_report.hpp"
#include "relay/queue/queue_manager.hpp"
#include "relay/server/runtime.hpp"

namespace mxgate::report {

namespace asio = boost::asio;
using core::Event;
using core::Field;

namespace {

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string utc_text(int64_t t) { return core::utc_text(t, "%Y-%m-%d %H:%M:%S"); }

// What the blocking pool hands back: the closed periods and their reports.
struct PeriodWork {
    DmarcStore::Period period;
    std::vector<dmarc::DomainReport> reports;
    std::set<std::string> done;  // domains already sent (or given up)
};

struct Prepared {
    bool ok = true;
    std::vector<PeriodWork> periods;
};

// The message for one report; empty recipients = nothing to send.
struct Outgoing {
    std::string report_id;
    std::string bytes;
    std::vector<std::string> recipients;
};

}  // namespace

DmarcReporter::DmarcReporter(server::Runtime& rt, std::shared_ptr<DmarcStore> store)
    : rt_(rt), store_(std::move(store)) {}

asio::awaitable<void> DmarcReporter::run() {
    asio::steady_timer timer(rt_.io);
    for (;;) {
        if (rt_.draining) co_return;
        auto op = send(false);
        co_await std::move(op);
        timer.expires_after(kCheckInterval);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
    }
}

asio::awaitable<DmarcSendSummary> DmarcReporter::send(bool force) {
    // One pass at a time (the timer and a control request may meet).
    asio::steady_timer wait(rt_.io);
    while (running_) {
        wait.expires_after(std::chrono::milliseconds(50));
        boost::system::error_code ec;
        co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    running_ = true;
    DmarcSendSummary s;
    try {
        auto op = send_once(force);
        s = co_await std::move(op);
    } catch (const std::exception& e) {
        s.note = std::string("internal error: ") + e.what();
    }
    running_ = false;
    co_return s;
}

asio::awaitable<DmarcSendSummary> DmarcReporter::send_once(bool force) {
    DmarcSendSummary sum;
    const std::shared_ptr<const conf::Config> cfg = rt_.snapshot()->config;
    const conf::DmarcReports& rc = cfg->policy.dmarc_reports;
    if (!rc.enabled) {
        sum.note = "policy.dmarc.reports is not enabled";
        co_return sum;
    }
    const int64_t now = unix_now();

    // Close what is due and read every closed period (blocking: files).
    auto prep_job = [store = store_, now, force]() {
        Prepared p;
        p.ok = store->close_period(now, force);
        for (const DmarcStore::Period& period : store->closed_periods()) {
            PeriodWork w{period, dmarc::aggregate(store->rows(period)), {}};
            for (const dmarc::DomainReport& r : w.reports)
                if (store->sent(period, r.policy_domain)) w.done.insert(r.policy_domain);
            p.periods.push_back(std::move(w));
        }
        return p;
    };
    auto prep_op = core::offload(rt_.blocking, std::move(prep_job));
    Prepared prepared = co_await std::move(prep_op);
    if (!prepared.ok)
        rt_.events->emit(Event("dmarc.report_failed").set(Field::reason, "cannot close the recorded period"));
    if (prepared.periods.empty()) co_return sum;

    const std::string psl_path = cfg->policy.public_suffix_list;
    auto psl_job = [psl_path]() { return dmarc::load_public_suffix_list(psl_path); };
    auto psl_op = core::offload(rt_.blocking, std::move(psl_job));
    const std::shared_ptr<const dmarc::PublicSuffixList> psl = co_await std::move(psl_op);
    if (!psl) {
        rt_.events->emit(Event("dmarc.report_failed")
                             .set(Field::path, psl_path)
                             .set(Field::reason, "public suffix list unreadable; reports wait"));
        sum.deferred = 1;
        co_return sum;
    }

    const std::string org = rc.organization.empty() ? cfg->hostname : rc.organization;
    const std::string from = rc.from.empty() ? rc.contact : rc.from;

    for (PeriodWork& w : prepared.periods) {
        const DmarcStore::Period& period = w.period;
        const bool expired = now - period.end > kMaxAge;
        bool all_done = true;
        for (const dmarc::DomainReport& rep : w.reports) {
            const std::string& domain = rep.policy_domain;
            if (w.done.count(domain)) continue;
            const std::string report_id =
                std::to_string(period.begin) + "." + std::to_string(period.end) + "." + domain + "@" + cfg->hostname;
            int failures = 0;  // of this report
            auto fail = [&](const std::string& reason, const std::string& to = "") {
                ++failures;
                Event e("dmarc.report_failed");
                e.set(Field::domain, domain).set(Field::id, report_id).set(Field::reason, reason);
                if (!to.empty()) e.set(Field::recipient, to);
                rt_.events->emit(e);
            };
            if (expired) {
                fail("not sent within 7 days of the period's end; dropped");
                ++sum.failed;
                continue;
            }

            // 1-2. Destinations, external ones verified (RFC 7489 §7.1).
            const std::string policy_org = psl->organizational_domain(domain);
            std::vector<dmarc::ReportUri> uris;
            bool deferred = false;
            const dmarc::RuaList rua = dmarc::parse_rua_list(rep.published.rua);
            // Never silently: an https: (or broken) rua entry gets its event.
            for (const dmarc::SkippedUri& s : rua.skipped)
                rt_.events->emit(Event("dmarc.report_skipped")
                                     .set(Field::domain, domain)
                                     .set(Field::id, report_id)
                                     .set(Field::address, s.uri)
                                     .set(Field::reason, s.reason));
            for (const dmarc::ReportUri& u : rua.usable) {
                if (psl->organizational_domain(u.domain) == policy_org) {
                    uris.push_back(u);
                    continue;
                }
                const std::string name = dmarc::report_authorization_name(domain, u.domain);
                auto txt_op = core::lookup_txt(*rt_.resolver, name);
                const core::DnsResult<std::string> r = co_await std::move(txt_op);
                if (r.status == core::DnsStatus::temp_fail) {
                    deferred = true;
                    break;
                }
                if (r.status == core::DnsStatus::ok && dmarc::authorizes_reports(r.records)) {
                    uris.push_back(u);
                } else {
                    fail("external destination not authorised: no v=DMARC1 record at " + name, u.address);
                    ++sum.failed;
                }
            }
            if (deferred) {
                // DNS will answer later; the period waits (up to kMaxAge).
                rt_.events->emit(Event("dmarc.report_deferred")
                                     .set(Field::domain, domain)
                                     .set(Field::id, report_id)
                                     .set(Field::reason, "DNS temporary failure verifying an external destination"));
                ++sum.deferred;
                all_done = false;
                continue;
            }

            // 3. The report and its message.
            Outgoing out;
            out.report_id = report_id;
            if (!uris.empty()) {
                const dmarc::ReportMeta meta{org, rc.contact, report_id, period.begin, period.end};
                const std::string xml = dmarc::render_feedback(meta, rep);
                queue::ReportMime m;
                m.kind = queue::ReportMimeKind::mixed;
                m.from = from;
                for (const dmarc::ReportUri& u : uris) m.to.push_back(u.address);
                m.subject = dmarc::report_subject(org, domain, report_id);
                m.date = now;
                m.message_id = report_id;
                m.hostname = cfg->hostname;
                m.text = "This is a DMARC aggregate report (RFC 7489) for " + domain + " from " + org + ".\r\n" +
                         "It covers " + utc_text(period.begin) + " to " + utc_text(period.end) + " UTC: " +
                         std::to_string(rep.messages) + " messages, " + std::to_string(rep.records.size()) +
                         " records.\r\nQuestions: " + rc.contact + "\r\n";
                m.attachment = core::gzip(xml);
                m.attachment_type = "application/gzip";
                m.attachment_name = dmarc::report_filename(cfg->hostname, rep, period.begin, period.end);
                out.bytes = queue::build_report_mime(m);
                // §6.2 size limits: the whole message must fit (a stricter
                // reading than the report alone, so no limit is ever passed).
                for (const dmarc::ReportUri& u : uris) {
                    if (u.max_size != 0 && out.bytes.size() > u.max_size) {
                        fail("report of " + std::to_string(out.bytes.size()) + " octets exceeds the destination's limit of " +
                                 std::to_string(u.max_size),
                             u.address);
                        ++sum.failed;
                        continue;
                    }
                    out.recipients.push_back(u.address);
                }
                if (out.recipients.size() != uris.size()) {
                    // The To: header must name only who gets it.
                    m.to = out.recipients;
                    out.bytes = out.recipients.empty() ? std::string() : queue::build_report_mime(m);
                }
            }

            // 4. Commit (or only remember that nothing can be sent), durably.
            auto commit_job = [&rt = rt_, store = store_, period, domain, from, out]() -> std::optional<std::string> {
                std::optional<std::string> id = std::string();
                if (!out.recipients.empty())
                    id = queue::queue_local_message(*rt.spool, from, out.recipients, out.bytes, *rt.events);
                if (!id) return std::nullopt;
                if (!store->mark_sent(period, domain)) return std::nullopt;
                return id;
            };
            auto commit_op = core::offload(rt_.blocking, std::move(commit_job));
            const std::optional<std::string> queued = co_await std::move(commit_op);
            if (!queued) {
                fail("cannot queue the report or record it as sent; trying again later");
                ++sum.deferred;
                all_done = false;
                continue;
            }
            if (queued->empty()) {
                if (failures == 0) {
                    fail(rua.skipped.empty() ? "no usable destination in rua"
                                             : "no usable destination in rua (only mailto: is supported): nothing sent");
                    ++sum.failed;
                }
                continue;  // nothing to send: done
            }
            if (rt_.queue) rt_.queue->enqueue(*queued);
            rt_.events->emit(Event("dmarc.report_sent")
                                 .set(Field::domain, domain)
                                 .set(Field::id, report_id)
                                 .set(Field::queue_id, *queued)
                                 .set(Field::recipients, out.recipients)
                                 .set(Field::count, static_cast<int64_t>(rep.messages))
                                 .set(Field::size, static_cast<uint64_t>(out.bytes.size())));
            ++sum.sent;
        }
        if (all_done) {
            auto finish_job = [store = store_, period]() {
                store->finish(period);
                return true;
            };
            auto finish_op = core::offload(rt_.blocking, std::move(finish_job));
            co_await std::move(finish_op);
        }
    }
    co_return sum;
}

asio::awaitable<std::string> control_dmarc_report(server::Runtime& rt) {
    if (rt.dmarc_reporter == nullptr) co_return "error DMARC reports are not running";
    auto op = rt.dmarc_reporter->send(true);
    const DmarcSendSummary s = co_await std::move(op);
    if (!s.note.empty()) co_return "error " + s.note;
    co_return "ok sent " + std::to_string(s.sent) + " failed " + std::to_string(s.failed) + " deferred " +
        std::to_string(s.deferred);
}

}  // namespace mxgate::report
