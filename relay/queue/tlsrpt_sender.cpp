#include "relay/queue/tlsrpt_sender.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <vector>

#include "relay/core/gzip.hpp"
#include "relay/queue/local_message.hpp"
#include "relay/queue/mime_report.hpp"
#include "relay/queue/queue_manager.hpp"
#include "relay/queue/tlsrpt_recorder.hpp"
#include "tlspolicy/https_client.hpp"
#include "tlspolicy/mta_sts_client.hpp"
#include "tlspolicy/tlsrpt_aggregate.hpp"
#include "tlspolicy/tlsrpt_record.hpp"

namespace mxgate::queue {

namespace asio = boost::asio;
using core::Event;
using core::Field;

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kRetryFor = 2 * kDay;     // after the day ended
constexpr int64_t kKeepFor = 31 * kDay;     // results and markers

bool dns_name(const std::string& s) {
    if (s.empty() || s.find('.') == std::string::npos) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return false;
    return true;
}

}  // namespace

asio::awaitable<void> TlsRptSender::run() {
    asio::steady_timer timer(rt_.io);
    boost::system::error_code ec;
    // A moment after start, so the queue has loaded and listeners are up.
    timer.expires_after(std::chrono::seconds(5));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    for (;;) {
        if (rt_.draining) co_return;
        auto pass = send_due(false);
        const std::string summary = co_await std::move(pass);
        (void)summary;
        // Hourly: a completed day is reported within the first hour after
        // midnight UTC; failed lookups and uploads are retried.
        timer.expires_after(std::chrono::hours(1));
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

asio::awaitable<std::string> TlsRptSender::send_due(bool include_today) {
    if (busy_) co_return std::string("a report run is already in progress");
    auto snap = rt_.snapshot();
    if (!snap->config->tls.outbound.tlsrpt.enabled) co_return std::string("tls.outbound.tlsrpt is disabled");
    busy_ = true;
    int sent = 0, failed = 0, skipped = 0;
    try {
        core::StateStore store(snap->config->spool, kTlsRptStore);
        const int64_t now = tlspolicy::unix_now();
        const std::string today = tlspolicy::utc_day(now);
        std::map<std::string, std::string> due;   // results key -> value
        std::vector<std::string> old;
        store.for_each([&](const std::string& key, const std::string& value) {
            const std::string kind = key.substr(0, key.find('/') + 1);
            const std::string day = key.size() > kind.size() + 10 ? key.substr(kind.size(), 10) : "";
            const auto start = tlspolicy::utc_day_start(day);
            if (!start) return;
            if (*start + kKeepFor < now) old.push_back(key);
            if (kind == "results/") due.emplace(key, value);
        });
        for (const auto& k : old) store.erase(k);
        for (const auto& [key, value] : due) {
            const auto dd = parse_tlsrpt_results_key(key);
            if (!dd) continue;
            const auto& [day, domain] = *dd;
            if (day > today || (day == today && !include_today)) continue;
            if (store.get(tlsrpt_sent_key(day, domain))) continue;
            const int64_t start = *tlspolicy::utc_day_start(day);
            if (start + kKeepFor < now) continue;   // removed above
            const int64_t end = day == today ? now : start + kDay - 1;
            auto one = send_one(day, domain, value, end);
            const Outcome o = co_await std::move(one);
            std::string mark;
            switch (o) {
                case Outcome::sent: ++sent; mark = "sent"; break;
                case Outcome::skipped: ++skipped; mark = "skipped"; break;
                case Outcome::failed: ++failed; mark = "failed"; break;
                case Outcome::retry:
                    ++failed;
                    if (start + kDay + kRetryFor < now) mark = "failed";
                    break;
            }
            if (!mark.empty()) store.put(tlsrpt_sent_key(day, domain), std::to_string(now) + " " + mark, true);
        }
    } catch (const std::exception& e) {
        rt_.events->emit(Event("tlsrpt.failed").set(Field::error, std::string(e.what())));
        ++failed;
    }
    busy_ = false;
    co_return std::to_string(sent) + " reports sent, " + std::to_string(failed) + " failed, " +
        std::to_string(skipped) + " skipped";
}

asio::awaitable<TlsRptSender::Outcome> TlsRptSender::send_one(const std::string& day, const std::string& domain,
                                                              const std::string& results, int64_t end) {
    auto snap = rt_.snapshot();
    const conf::Config& cfg = *snap->config;
    const auto decoded = tlspolicy::decode(results);
    if (!decoded || decoded->empty()) {
        rt_.events->emit(Event("tlsrpt.failed").set(Field::domain, domain).set(Field::error, "unreadable results for " + day));
        co_return Outcome::failed;
    }
    // RFC 8460 §3: the policy domain's _smtp._tls record says where to.
    const std::string txt_name = "_smtp._tls." + domain;
    auto lookup = core::lookup_txt(*rt_.resolver, txt_name);
    auto txt = co_await std::move(lookup);
    if (txt.status == core::DnsStatus::temp_fail) {
        rt_.events->emit(Event("tlsrpt.failed")
                             .set(Field::domain, domain)
                             .set(Field::error, "TXT lookup of " + txt_name + " failed: " + txt.error));
        co_return Outcome::retry;
    }
    std::string rec_error;
    std::optional<tlspolicy::TlsRptRecord> rec;
    if (txt.status == core::DnsStatus::ok) rec = tlspolicy::select_tlsrpt_record(txt.records, rec_error);
    if (!rec) co_return Outcome::skipped;   // the domain does not ask for reports

    const auto& rc = cfg.tls.outbound.tlsrpt;
    const std::string submitter = dns_name(rc.organization) ? rc.organization : cfg.hostname;
    const std::string contact = !rc.contact.empty() ? rc.contact : "postmaster@" + cfg.hostname;
    tlspolicy::ReportMeta meta;
    meta.organization = rc.organization.empty() ? cfg.hostname : rc.organization;
    meta.contact = contact;
    meta.start = *tlspolicy::utc_day_start(day);
    meta.end = end;
    meta.policy_domain = domain;
    const std::string unique = random_hex(8);
    meta.report_id = day + "T00:00:00Z_" + domain + "_" + unique + "@" + cfg.hostname;
    const std::string json = tlspolicy::report_json(meta, *decoded);
    const std::string gz = core::gzip(json);
    const std::string file_name = submitter + "!" + domain + "!" + std::to_string(meta.start) + "!" +
                                  std::to_string(meta.end) + "!" + unique + ".json.gz";
    uint64_t sessions = 0;
    for (const auto& [p, r] : decoded->policies) sessions += r.successes + r.failure_total();

    bool any = false;
    std::vector<std::string> mail_to;
    for (const auto& uri : rec->rua) {
        if (uri.rfind("mailto:", 0) == 0) {
            const std::string a = tlspolicy::tlsrpt_mailto_address(uri);
            if (!a.empty()) mail_to.push_back(a);
            continue;
        }
        const auto u = tlspolicy::tlsrpt_https_uri(uri);
        if (!u) {
            rt_.events->emit(Event("tlsrpt.failed").set(Field::domain, domain).set(Field::address, uri)
                                 .set(Field::id, meta.report_id).set(Field::error, "unusable https URI"));
            continue;
        }
        tlspolicy::HttpsRequest rq;
        rq.host = u->host;
        rq.port = u->port;
        rq.post = true;
        rq.target = u->target;
        rq.content_type = "application/tlsrpt+gzip";
        rq.body = gz;
        rq.body_limit = 16 * 1024;
        auto post = tlspolicy::https_request(rt_.io.get_executor(), *rt_.resolver, snap->client_tls, std::move(rq));
        tlspolicy::HttpsResponse res = co_await std::move(post);
        std::string err = res.error;
        if (res.ok && (res.status < 200 || res.status > 299)) err = "HTTP " + std::to_string(res.status) + " from " + u->host;
        if (err.empty()) {
            any = true;
            rt_.events->emit(Event("tlsrpt.sent").set(Field::domain, domain).set(Field::address, uri)
                                 .set(Field::id, meta.report_id).set(Field::count, sessions)
                                 .set(Field::size, static_cast<uint64_t>(gz.size())));
        } else {
            rt_.events->emit(Event("tlsrpt.failed").set(Field::domain, domain).set(Field::address, uri)
                                 .set(Field::id, meta.report_id).set(Field::error, err));
        }
    }
    if (!mail_to.empty()) {
        ReportMime m;
        m.kind = ReportMimeKind::tlsrpt;
        m.from = contact;
        m.to = mail_to;
        m.subject = "Report Domain: " + domain + " Submitter: " + submitter + " Report-ID: <" + meta.report_id + ">";
        m.date = tlspolicy::unix_now();
        m.hostname = cfg.hostname;
        m.text = "This is an aggregate TLS report (RFC 8460) from " + submitter + " for " + domain + ", " +
                 tlspolicy::rfc3339_utc(meta.start) + " to " + tlspolicy::rfc3339_utc(meta.end) + ".\n"
                 "The report is the attached gzip'ed JSON file.";
        m.attachment = gz;
        m.attachment_type = "application/tlsrpt+gzip";
        m.attachment_name = file_name;
        m.tls_report_domain = domain;
        m.tls_report_submitter = submitter;
        GeneratedMessage g;
        g.sender = contact;
        g.recipients = mail_to;
        g.bytes = build_report_mime(m);
        g.helo = cfg.hostname;
        g.listener = kTlsRptListener;   // RFC 8460 §5.3 delivery rules (smtp_courier)
        const auto id = commit_generated(*rt_.spool, g, *rt_.events, "tlsrpt");
        if (id) {
            any = true;
            if (rt_.queue) rt_.queue->enqueue(*id);
            for (const auto& a : mail_to)
                rt_.events->emit(Event("tlsrpt.sent").set(Field::domain, domain).set(Field::address, "mailto:" + a)
                                     .set(Field::id, meta.report_id).set(Field::queue_id, *id)
                                     .set(Field::count, sessions).set(Field::size, static_cast<uint64_t>(gz.size())));
        } else {
            rt_.events->emit(Event("tlsrpt.failed").set(Field::domain, domain).set(Field::id, meta.report_id)
                                 .set(Field::error, "could not queue the report mail"));
        }
    }
    co_return any ? Outcome::sent : Outcome::retry;
}

}  // namespace mxgate::queue
