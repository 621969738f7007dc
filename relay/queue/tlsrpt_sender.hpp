// relay/queue/tlsrpt_sender.hpp — sends the daily TLS-RPT aggregate reports
// (RFC 8460 §5) from the results tlsrpt_recorder.hpp keeps.
//
// In `mxgate serve`: run() checks at start and then every hour; every
// completed UTC day with results for a policy domain and no `sent/` marker
// is reported: TXT _smtp._tls.<domain> (select_tlsrpt_record), the §4.4
// JSON gzip'ed, then per rua
//   mailto: one multipart/report message (report-type=tlsrpt, attachment
//           application/tlsrpt+gzip named submitter!domain!begin!end!id.json.gz)
//           committed to the spool (listener "tlsrpt") and queued; the
//           courier delivers it to the rua domain's MX like any mail, except
//           that RFC 8460 §5.3 applies: it is delivered despite TLS failures
//           and its sessions are not counted in the next report (no loops);
//   https:  POST of the gzip'ed JSON (Content-Type application/tlsrpt+gzip),
//           certificate verified against tls.ca_file (https_client.hpp).
// The `sent/` marker is written durably once one rua took the report, so a
// restart neither sends a day twice nor skips it (a crash between the
// hand-over and the marker repeats that one report: at-least-once). A
// domain without a TLSRPT record is marked and skipped; a DNS failure or
// all rua failing is retried on the next run, for up to two days.
// Results and markers older than 31 days are removed.
//
// send_now(): the test and operator knob behind `mxgate report tls
// --send-now` (control socket command "tlsrpt-send"): also reports the
// current day, up to now, and marks it sent (the rest of that day is then
// never reported).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "relay/server/runtime.hpp"

namespace mxgate::queue {

inline constexpr const char* kTlsRptListener = "tlsrpt";

class TlsRptSender {
public:
    explicit TlsRptSender(server::Runtime& rt) : rt_(rt) {}
    // The daily loop (co_spawn it once).
    boost::asio::awaitable<void> run();
    // One pass now; include_today: report the current day up to now too.
    // Returns "N reports sent, M failed, K skipped".
    boost::asio::awaitable<std::string> send_due(bool include_today);

private:
    enum class Outcome { sent, failed, skipped, retry };
    boost::asio::awaitable<Outcome> send_one(const std::string& day, const std::string& domain,
                                             const std::string& results, int64_t end);
    server::Runtime& rt_;
    bool busy_ = false;   // one pass at a time (the loop and the control socket)
};

}  // namespace mxgate::queue
