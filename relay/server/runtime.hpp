// relay/server/runtime.hpp — the process-wide services of `mxgate serve`,
// passed explicitly to listeners, sessions and the queue (no globals).
//
// Snapshot is what one configuration load produces: the immutable Config
// and the TLS contexts built from it. SIGHUP builds a new Snapshot and swaps
// it in; a session keeps the snapshot it started with (STYLE §2).
#pragma once

#include <atomic>
#include <map>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "auth/service.hpp"
#include "conf/config.hpp"
#include "dmarc/checks.hpp"
#include "relay/core/event_sink.hpp"
#include "relay/core/resolver.hpp"
#include "relay/server/connection_limits.hpp"
#include "relay/server/lab_memory.hpp"
#include "relay/server/metrics.hpp"
#include "relay/spool/spool.hpp"
#include "tlspolicy/inbound.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::queue {
class QueueManager;
class TlsRptSender;
}
namespace mxgate::report {
class DmarcStore;
class DmarcReporter;
}

namespace mxgate::server {

struct Snapshot {
    std::shared_ptr<const conf::Config> config;
    tlspolicy::ContextPtr server_tls;  // inbound STARTTLS / implicit TLS; null if none
    tlspolicy::ContextPtr client_tls;  // delivery to downstream and MX hosts; MTA-STS fetches
    // lab listeners' deliberately weak contexts, by listener name (lab_snapshot.cpp)
    std::map<std::string, tlspolicy::ContextPtr> lab_tls;
    // tls.outbound.policies entries with their own profile: destination
    // domain -> client context (built once per load, like client_tls).
    std::map<std::string, tlspolicy::ContextPtr> policy_client_tls;
    std::shared_ptr<const tlspolicy::DryRun> dry_run;  // tls.inbound.dry_run; null if unset
    // Listeners with their own tls_profile, by listener name.
    std::map<std::string, tlspolicy::ContextPtr> listener_tls;
    // The server context a listener uses: its own profile's, else server_tls.
    tlspolicy::ContextPtr server_tls_for(const conf::Listener& l) const {
        const auto it = listener_tls.find(l.name);
        return it != listener_tls.end() ? it->second : server_tls;
    }
};

// Adds the lab listeners' TLS contexts to a snapshot; false + errors on failure.
bool build_lab_contexts(Snapshot& snap, std::vector<std::string>& errors);

// Builds TLS contexts for a config (creating the self-signed development
// certificate when asked). Returns null and fills errors on failure.
std::shared_ptr<const Snapshot> build_snapshot(std::shared_ptr<const conf::Config> cfg,
                                               std::vector<std::string>& errors);

class Runtime {
public:
    Runtime(boost::asio::io_context& io, std::shared_ptr<core::EventSink> events,
            std::shared_ptr<spool::Spool> spool, std::shared_ptr<core::Resolver> resolver,
            std::shared_ptr<const Snapshot> snap)
        : io(io), events(std::move(events)), spool(std::move(spool)),
          resolver(std::move(resolver)), snap_(std::move(snap)),
          checks(std::make_unique<dmarc::Checks>(io.get_executor(), this->resolver)) {}

    boost::asio::io_context& io;
    std::shared_ptr<core::EventSink> events;
    std::shared_ptr<spool::Spool> spool;
    std::shared_ptr<core::Resolver> resolver;
    ConnectionLimits connections;
    Metrics metrics;
    queue::QueueManager* queue = nullptr;
    queue::TlsRptSender* tlsrpt = nullptr;   // daily TLS-RPT reports (null in tools and tests)
    // SMTP AUTH state shared by the submission sessions (null: AUTH refused).
    std::shared_ptr<auth::Service> auth;
    std::atomic<bool> draining{false};
    std::atomic<uint64_t> next_session{1};
    LabMemory lab_memory;  // lab listeners: who failed TLS and came back (session_lab.cpp)
    // Blocking work (fsync of spool commits): many threads, because
    // concurrent fsyncs let the filesystem journal commit them together.
    boost::asio::thread_pool blocking{16};
    // Inbound downgrade detection (SPEC §7): failed handshakes by client,
    // persisted in the spool; null = detection off (tools, unit tests).
    std::shared_ptr<tlspolicy::DowngradeTracker> downgrades;
    // Cached MTA-STS/DANE posture of sender domains (tlspolicy/inbound.hpp).
    tlspolicy::SenderPosture sender_posture;
    // The spool's MTA-STS policy cache ("mta-sts"), for the sender posture's
    // policy lookups; null = MTA-STS never counts as a sender's posture.
    std::shared_ptr<core::StateStore> mta_sts_cache;
    // Recorded DMARC evaluations for aggregate reports (relay/report/
    // dmarc_store.hpp); null = not recording (tools, unit tests).
    std::shared_ptr<report::DmarcStore> dmarc_reports;
    report::DmarcReporter* dmarc_reporter = nullptr;  // sends them (serve only)

    std::shared_ptr<const Snapshot> snapshot() const {
        std::lock_guard lock(mu_);
        return snap_;
    }
    void replace(std::shared_ptr<const Snapshot> s) {
        std::lock_guard lock(mu_);
        snap_ = std::move(s);
    }

private:
    mutable std::mutex mu_;
    std::shared_ptr<const Snapshot> snap_;

public:
    // The bounded pool for libspf2/libopendkim/libopendmarc (dmarc/checks.hpp):
    // `co_await rt.checks->spf(...)` / `->dkim(...)` / `->run(fn)`; nullopt
    // means the pool is full → replies::checks_busy() (451 4.3.2).
    // Declared last: destroyed first, while the resolver still exists.
    std::unique_ptr<dmarc::Checks> checks;
};

}  // namespace mxgate::server
