// relay/report/dmarc_sender.hpp — sends the daily DMARC aggregate reports
// (RFC 7489 §7.2) from `mxgate serve`; docs/dmarc-reports.md.
//
// run(): at start, then every kCheckInterval, closes the recorded period
// whose UTC day is over and mails every closed period's reports; send(true)
// (the control socket's "dmarc-report-now", `mxgate report dmarc
// --send-now`) closes the open period at once and sends it too.
//
// Per closed period and policy domain (dmarc/aggregate_report):
//   1. the rua URIs of the latest recorded record (mailto: only);
//   2. RFC 7489 §7.1: a URI whose organisational domain differs from the
//      policy domain's needs <policy>._report._dmarc.<rua-domain> TXT with
//      v=DMARC1 (through the Resolver); absent → not sent there
//      (dmarc.report_failed); a DNS temporary failure → tried again later;
//   3. the XML, gzip'ed, as application/gzip in a multipart/mixed message
//      (Subject and file name per §7.2.1.1); a URI whose `!size` limit the
//      whole message exceeds gets nothing (dmarc.report_failed);
//   4. queue_local_message to the remaining URIs → the outbound route;
//      then the (period, domain) is marked sent (fsync'ed) and
//      dmarc.report_sent logged. A period whose reports are all done is
//      deleted; one still undone after kMaxAge is dropped.
// A crash between the queue commit and the mark can send that one report
// twice (same Report-ID, so receivers drop it); never lose it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "relay/report/dmarc_store.hpp"

namespace mxgate::server {
class Runtime;
}

namespace mxgate::report {

struct DmarcSendSummary {
    int sent = 0;      // reports queued
    int failed = 0;    // reports (or destinations) given up
    int deferred = 0;  // reports to try again later
    std::string note;  // why nothing ran, when so
};

class DmarcReporter {
public:
    static constexpr std::chrono::minutes kCheckInterval{5};
    static constexpr int64_t kMaxAge = 7 * kDay;

    DmarcReporter(server::Runtime& rt, std::shared_ptr<DmarcStore> store);

    boost::asio::awaitable<void> run();
    // One pass; `force` closes the open period now. Passes never overlap.
    boost::asio::awaitable<DmarcSendSummary> send(bool force);

private:
    boost::asio::awaitable<DmarcSendSummary> send_once(bool force);

    server::Runtime& rt_;
    std::shared_ptr<DmarcStore> store_;
    bool running_ = false;
};

// The control socket's "dmarc-report-now": one forced pass, as a reply line.
boost::asio::awaitable<std::string> control_dmarc_report(server::Runtime& rt);

}  // namespace mxgate::report
