// `mxgate report downgrades|tls|auth [--since T] [--json] [-c FILE]` (SPEC
// §2, §7): summaries of the event journal the daemon keeps in
// <spool>/state/events.jsonl. Works whether or not the daemon runs; the
// aggregation lives in relay/report (docs/reports.md).
// `mxgate report dmarc [--send-now]` (extension, docs/dmarc-reports.md):
// the DMARC evaluations recorded for aggregate reports, per period and
// policy domain; --send-now asks the running daemon to send them now.
#include <chrono>
#include <iostream>

#include "relay/cli/commands.hpp"
#include "relay/core/event_journal.hpp"
#include "relay/report/dmarc_store.hpp"
#include "relay/report/report.hpp"
#include "relay/report/report_tlsrpt.hpp"
#include "relay/server/control.hpp"

namespace mxgate::cli {

namespace {

constexpr const char* kReportUsage =
    "usage: mxgate report downgrades|tls|auth [--since T] [--json] [-c FILE]\n"
    "       mxgate report tls --send-now [-c FILE]\n"
    "       mxgate report dmarc [--send-now] [-c FILE]\n"
    "  downgrades  per sending host: inbound TLS failures, plaintext retries,\n"
    "              suspect plaintext from MTA-STS/DANE domains, dry-run refusals,\n"
    "              last seen, senders affected\n"
    "  tls         inbound and outbound TLS: versions, ciphers, failures, fallbacks;\n"
    "              TLS-RPT results per policy domain and day\n"
    "  auth        logins per user and network, lockouts, cleartext exposures\n"
    "  --since T   only events at or after T: RFC 3339 (2026-11-22T10:00:00Z)\n"
    "              or a duration back from now (30m, 24h, 7d, 2w)\n"
    "  --json      machine-readable output\n"
    "  --send-now  ask the running daemon to send the TLS-RPT reports due,\n"
    "              today's so far included (docs/tlsrpt.md)\n"
    "  dmarc       DMARC evaluations recorded for aggregate reports (RFC 7489),\n"
    "              per period and policy domain, not yet sent; with --send-now\n"
    "              the running daemon closes the current period and sends every\n"
    "              pending DMARC report now (docs/dmarc-reports.md)\n";

// `mxgate report dmarc [--send-now]`.
int report_dmarc(const conf::Config& cfg, bool send_now) {
    if (send_now) {
        const std::string path = server::control_socket_path(cfg);
        const auto answer = server::control_request(path, "dmarc-report-now");
        if (!answer) {
            std::cerr << "mxgate report dmarc: --send-now needs the running daemon (no control socket at " << path
                      << ")\n";
            return 1;
        }
        std::cout << *answer << "\n";
        return answer->rfind("ok", 0) == 0 ? 0 : 1;
    }
    const auto periods = report::DmarcStore::list(cfg.spool);
    if (periods.empty()) std::cout << "no DMARC evaluations recorded for reports\n";
    for (const auto& l : periods) {
        std::cout << (l.open ? "recording" : "to send") << " " << l.period.begin << "-" << l.period.end << ":\n";
        for (const dmarc::DomainReport& r : dmarc::aggregate(l.rows))
            std::cout << "  " << report::printable(r.policy_domain) << ": " << r.messages << " messages, "
                      << r.records.size() << " records, rua " << report::printable(r.published.rua) << "\n";
    }
    return 0;
}

}  // namespace

int cmd_report(const std::vector<std::string>& args) {
    auto o = parse_common(args);
    if (!o) return 2;
    if (o->help) {
        std::cout << kReportUsage;
        return 0;
    }
    std::string kind, since;
    bool json = false;
    bool send_now = false;
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (size_t i = 0; i < o->rest.size(); ++i) {
        const std::string& a = o->rest[i];
        std::string value;
        if (a == "--json") {
            json = true;
            continue;
        }
        if (a == "--send-now") {
            send_now = true;
            continue;
        }
        if (a == "--since") {
            if (i + 1 >= o->rest.size()) {
                std::cerr << "mxgate report: --since needs a time (RFC 3339) or a duration (24h, 7d)\n";
                return 2;
            }
            value = o->rest[++i];
        } else if (a.rfind("--since=", 0) == 0) {
            value = a.substr(8);
        } else if (kind.empty() && (a == "downgrades" || a == "tls" || a == "auth" || a == "dmarc")) {
            kind = a;
            continue;
        } else {
            std::cerr << "mxgate report: unexpected argument '" << report::printable(a) << "'\n" << kReportUsage;
            return 2;
        }
        std::string error;
        const auto s = report::parse_since(value, now, error);
        if (!s) {
            std::cerr << "mxgate report: " << error << "\n";
            return 2;
        }
        since = *s;
    }
    if (kind.empty()) {
        std::cerr << kReportUsage;
        return 2;
    }
    if (send_now && kind != "tls" && kind != "dmarc") {
        std::cerr << "mxgate report: --send-now goes with tls or dmarc\n";
        return 2;
    }
    auto cfg = load_or_report(config_path(*o));
    if (!cfg) return 2;
    if (kind == "dmarc") return report_dmarc(*cfg, send_now);
    if (send_now) {
        const auto answer = server::control_request(server::control_socket_path(*cfg), "tlsrpt-send");
        if (!answer) {
            std::cerr << "mxgate report: no daemon is running (the reports are sent by mxgate serve)\n";
            return 1;
        }
        if (answer->rfind("ok ", 0) == 0) {
            std::cout << answer->substr(3) << "\n";
            return 0;
        }
        std::cerr << "mxgate report: " << *answer << "\n";
        return 1;
    }
    const std::vector<core::JournalRecord> events = core::read_journal(cfg->spool, since);
    if (kind == "downgrades") {
        const auto hosts = report::downgrades(events);
        std::cout << (json ? report::downgrades_json(hosts) : report::downgrades_text(hosts));
    } else if (kind == "tls") {
        const auto s = report::tls_summary(events);
        const auto days = report::tlsrpt_days(cfg->spool, since.substr(0, 10));
        if (json) {
            std::string j = report::tls_json(s);   // "{...}\n": the TLS-RPT view joins the object
            const size_t close = j.rfind('}');
            j.insert(close, ",\"tlsrpt\":" + report::tlsrpt_json(days));
            std::cout << j;
        } else {
            std::cout << report::tls_text(s) << report::tlsrpt_text(days);
        }
    } else {
        const auto s = report::auth_summary(events);
        std::cout << (json ? report::auth_json(s) : report::auth_text(s));
    }
    return 0;
}

}  // namespace mxgate::cli
