// `mxgate serve` — runs the daemon in the foreground (SPEC §2).
//
// Steps, in order:
//   1. load and validate the configuration (exit 2 with every error)
//   2. open the log; every event also feeds the metrics counters
//   3. build the TLS contexts (generating the development certificate)
//   4. open the spool (creates directories 0700, drops half-received files)
//   5. start the resolver and the queue manager (which loads the queue)
//   6. bind every listener and the metrics endpoint (exit 1 if one fails)
//   7. handle signals: SIGTERM/SIGINT drain, SIGHUP reloads (listeners
//      too: server/listener_set.hpp); periodic housekeeping (DMARC
//      aggregate reports, greylisting state pruning)
//   8. run the I/O threads until drained
#include <algorithm>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <list>

#include "relay/cli/commands.hpp"
#include "relay/core/event_journal.hpp"
#include "relay/core/offload.hpp"
#include "relay/core/state_store.hpp"
#include "relay/queue/queue_manager.hpp"
#include "relay/queue/tlsrpt_sender.hpp"
#include "relay/report/dmarc_sender.hpp"
#include "relay/report/dmarc_store.hpp"
#include "relay/server/control.hpp"
#include "relay/server/greylist_prune.hpp"
#include "relay/server/listener.hpp"
#include "relay/server/listener_set.hpp"
#include "relay/server/runtime.hpp"

namespace mxgate::cli {

namespace asio = boost::asio;

namespace {

// How long SIGTERM waits for sessions and deliveries before forcing.
constexpr auto kDrainTimeout = std::chrono::seconds(10);

struct Daemon {
    asio::io_context io;
    std::shared_ptr<core::JsonLineSink> log;
    std::shared_ptr<core::FanOutSink> events;
    std::unique_ptr<server::Runtime> rt;
    std::unique_ptr<queue::QueueManager> queue;
    std::unique_ptr<queue::TlsRptSender> tlsrpt;
    std::unique_ptr<report::DmarcReporter> dmarc_reporter;
    std::unique_ptr<server::ListenerSet> listeners;
    std::shared_ptr<asio::ip::tcp::acceptor> metrics_acceptor;  // null: metrics off
    std::optional<asio::local::stream_protocol::acceptor> control_acceptor;
    std::string config_path;
};

bool has_submission(const conf::Config& cfg) {
    return std::any_of(cfg.listeners.begin(), cfg.listeners.end(),
                       [](const conf::Listener& l) { return l.role == conf::ListenerRole::submission; });
}

void listening_events(Daemon& d, const server::ListenerSet::Changes& ch) {
    for (const auto* l : ch.closed)
        d.events->emit(core::Event("server.listener_closed")
                           .set(core::Field::listener, l->name)
                           .set(core::Field::address, l->address));
    for (const auto* l : ch.opened)
        d.events->emit(core::Event("server.listening")
                           .set(core::Field::listener, l->name)
                           .set(core::Field::address, l->address));
}

bool metrics_address_changed(const conf::Config& running, const conf::Config& next) {
    const auto& a = running.metrics.address;
    const auto& b = next.metrics.address;
    if (a.has_value() != b.has_value()) return true;
    return a && a->text() != b->text();
}

void serve_metrics_on(Daemon& d, const conf::HostPort& at) {
    asio::co_spawn(d.io, server::serve_metrics(d.metrics_acceptor, d.rt->metrics), asio::detached);
    d.events->emit(core::Event("server.listening").set(core::Field::listener, std::string("metrics")).set(core::Field::address, at.text()));
}

void reload(Daemon& d) {
    conf::LoadResult r = conf::load_file(d.config_path);
    std::vector<std::string> errors;
    for (const auto& e : r.errors) errors.push_back(e.text());
    std::shared_ptr<const server::Snapshot> snap;
    if (errors.empty()) snap = server::build_snapshot(r.config, errors);
    if (!errors.empty()) {
        // SPEC §4: a broken configuration keeps the running one.
        d.events->emit(core::Event("config.reload_failed").set(core::Field::errors, errors));
        return;
    }
    // A first submission listener needs what start gives one (no core
    // dumps with passwords in memory, libsasl2 initialised).
    if (has_submission(*r.config)) {
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        std::string sasl_error;
        if (!auth::sasl_library_init(r.config->auth.sasldb, sasl_error)) {
            d.events->emit(core::Event("config.reload_failed").set(core::Field::errors, std::vector<std::string>{sasl_error}));
            return;
        }
    }
    // A changed metrics.address is bound first, then new listener
    // addresses; a failed bind refuses the whole reload (the running
    // sockets and configuration stay).
    const bool metrics_moved = metrics_address_changed(*d.rt->snapshot()->config, *r.config);
    std::shared_ptr<asio::ip::tcp::acceptor> next_metrics;
    if (metrics_moved && r.config->metrics.address) {
        try {
            next_metrics = std::make_shared<asio::ip::tcp::acceptor>(
                server::bind_listener(d.io, *r.config->metrics.address, "metrics"));
        } catch (const std::exception& e) {
            d.events->emit(core::Event("config.reload_failed").set(core::Field::errors, std::vector<std::string>{e.what()}));
            return;
        }
    }
    std::string bind_error;
    if (!d.listeners->prepare(r.config->listeners, bind_error)) {
        d.events->emit(core::Event("config.reload_failed").set(core::Field::errors, std::vector<std::string>{bind_error}));
        return;
    }
    // Everything else (limits, domains, downstreams, certificates,
    // timeouts, listener roles) applies to new sessions and deliveries.
    d.rt->replace(snap);
    listening_events(d, d.listeners->commit());
    if (metrics_moved) {
        boost::system::error_code ec;
        if (d.metrics_acceptor) {
            d.metrics_acceptor->close(ec);  // its loop ends
            d.events->emit(core::Event("server.listener_closed").set(core::Field::listener, std::string("metrics")));
        }
        d.metrics_acceptor = next_metrics;
        if (d.metrics_acceptor) serve_metrics_on(d, *r.config->metrics.address);
    }
    try {
        d.log->reopen();
    } catch (const std::exception& e) {
        d.events->emit(core::Event("config.reload_failed").set(core::Field::errors, std::vector<std::string>{e.what()}));
        return;
    }
    d.events->emit(core::Event("config.reloaded").set(core::Field::path, d.config_path));
}

asio::awaitable<void> drain(Daemon& d) {
    d.rt->draining = true;
    d.events->emit(core::Event("server.draining"));
    boost::system::error_code ec;
    d.listeners->close_all();
    if (d.metrics_acceptor) d.metrics_acceptor->close(ec);
    if (d.control_acceptor) d.control_acceptor->close(ec);
    d.queue->stop();
    asio::steady_timer t(d.io);
    const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
    while (std::chrono::steady_clock::now() < deadline &&
           (d.rt->connections.total() > 0 || d.queue->busy())) {
        t.expires_after(std::chrono::milliseconds(50));
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    d.events->emit(core::Event("server.stopped").set(core::Field::count, d.rt->connections.total()));
    d.io.stop();
}

// Greylisting triplets that can no longer matter are forgotten, at start
// and hourly, off the I/O thread (relay/server/greylist_prune.hpp).
asio::awaitable<void> prune_greylist_loop(Daemon& d) {
    asio::steady_timer t(d.io);
    for (;;) {
        if (d.rt->draining) co_return;
        const std::shared_ptr<const conf::Config> cfg = d.rt->snapshot()->config;
        const std::string spool = cfg->spool;
        const int64_t delay = std::chrono::duration_cast<std::chrono::seconds>(cfg->policy.greylisting_delay).count();
        auto job = [spool, delay]() -> server::GreylistPruneStats {
            std::error_code ec;
            if (!std::filesystem::exists(std::filesystem::path(spool) / "state" / "greylist", ec)) return {};
            try {
                core::StateStore store(spool, "greylist");
                const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count();
                return server::prune_greylist(store, now, delay);
            } catch (const std::exception&) {
                return {};
            }
        };
        auto op = core::offload(d.rt->blocking, std::move(job));
        const server::GreylistPruneStats st = co_await std::move(op);
        if (st.removed > 0)
            d.events->emit(core::Event("policy.greylist_pruned")
                               .set(core::Field::count, static_cast<uint64_t>(st.removed))
                               .set(core::Field::size, static_cast<uint64_t>(st.kept)));
        t.expires_after(std::chrono::hours(1));
        boost::system::error_code ec;
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
    }
}

asio::awaitable<void> handle_signals(Daemon& d) {
    asio::signal_set signals(d.io, SIGTERM, SIGINT, SIGHUP);
    for (;;) {
        boost::system::error_code ec;
        const int sig = co_await signals.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        if (sig == SIGHUP) {
            reload(d);
            continue;
        }
        co_await drain(d);
        co_return;
    }
}

}  // namespace

int cmd_serve(const std::vector<std::string>& args) {
    auto o = parse_common(args);
    if (!o) return 2;
    if (o->help) {
        std::cout << "usage: mxgate serve [-c FILE]\n"
                     "Runs the daemon in the foreground. SIGTERM drains (bounded), SIGHUP\n"
                     "reloads the configuration and certificates.\n";
        return 0;
    }
    if (!o->rest.empty()) {
        std::cerr << "mxgate serve: unexpected argument '" << o->rest[0] << "'\n";
        return 2;
    }
    Daemon d;
    d.config_path = config_path(*o);

    // 1. configuration
    auto cfg = load_or_report(d.config_path);
    if (!cfg) return 2;

    // 2. log + metrics
    try {
        d.log = std::make_shared<core::JsonLineSink>(cfg->log);
    } catch (const std::exception& e) {
        std::cerr << "mxgate: " << e.what() << "\n";
        return 1;
    }
    d.events = std::make_shared<core::FanOutSink>();
    d.events->add(d.log);

    // 3. TLS contexts
    std::vector<std::string> errors;
    auto snap = server::build_snapshot(cfg, errors);
    if (!snap) {
        for (const auto& e : errors) std::cerr << "mxgate: " << e << "\n";
        return 2;
    }

    // 4. spool
    std::shared_ptr<spool::Spool> spool;
    try {
        spool = spool::open_file_spool(cfg->spool);
    } catch (const std::exception& e) {
        std::cerr << "mxgate: spool: " << e.what() << "\n";
        return 1;
    }

    // One daemon per spool: a second one would deliver the same messages.
    const std::string lock_path = cfg->spool + "/lock";
    const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        std::cerr << "mxgate: spool " << cfg->spool << " is in use by another mxgate serve\n";
        return 1;
    }

    // 5. resolver, runtime, queue
    auto resolver = core::make_unbound_resolver(d.io.get_executor(), cfg->dns);
    d.rt = std::make_unique<server::Runtime>(d.io, d.events, spool, resolver, snap);
    d.events->add(std::make_shared<server::MetricsSink>(d.rt->metrics));
    try {
        d.events->add(std::make_shared<core::EventJournal>(cfg->spool));
    } catch (const std::exception& e) {
        std::cerr << "mxgate: " << e.what() << "\n";
        return 1;
    }
    // 6. SMTP AUTH for submission listeners: libsasl2 and the shared state
    if (has_submission(*cfg)) {
        // Passwords pass through this process's memory: no core dumps, no
        // ptrace by other users (issue 6: never in a core dump).
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        std::string sasl_error;
        if (!auth::sasl_library_init(cfg->auth.sasldb, sasl_error)) {
            std::cerr << "mxgate: " << sasl_error << "\n";
            return 1;
        }
    }
    try {
        d.rt->auth = std::make_shared<auth::Service>(cfg->spool);
    } catch (const std::exception& e) {
        std::cerr << "mxgate: auth state: " << e.what() << "\n";
        return 1;
    }
    // A configured mechanism without its libsasl2 plugin is never offered;
    // say so once instead of letting clients find out.
    if (std::any_of(cfg->listeners.begin(), cfg->listeners.end(),
                    [](const conf::Listener& l) { return l.role == conf::ListenerRole::submission; })) {
        const std::vector<std::string> have = d.rt->auth->mechanisms(cfg);
        for (const std::string& m : cfg->auth.mechanisms)
            if (std::find(have.begin(), have.end(), m) == have.end())
                d.events->emit(core::Event("auth.mechanism_unavailable")
                                   .set(core::Field::mechanism, m)
                                   .set(core::Field::reason, "libsasl2 has no plugin for it (libsasl2-modules?)"));
    }
    // Inbound downgrade detection: failed handshakes of the last 24 h.
    try {
        d.rt->downgrades = std::make_shared<tlspolicy::DowngradeTracker>(
            std::make_shared<core::StateStore>(cfg->spool, "tls_failures"));
        d.rt->downgrades->load(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count());
        d.rt->mta_sts_cache = std::make_shared<core::StateStore>(cfg->spool, "mta-sts");
    } catch (const std::exception& e) {
        std::cerr << "mxgate: " << e.what() << "\n";
        return 1;
    }
    // DMARC aggregate reports: the recorded evaluations and their sender.
    try {
        d.rt->dmarc_reports = std::make_shared<report::DmarcStore>(cfg->spool);
    } catch (const std::exception& e) {
        std::cerr << "mxgate: " << e.what() << "\n";
        return 1;
    }
    d.queue = std::make_unique<queue::QueueManager>(*d.rt);
    d.rt->queue = d.queue.get();
    d.dmarc_reporter = std::make_unique<report::DmarcReporter>(*d.rt, d.rt->dmarc_reports);
    d.rt->dmarc_reporter = d.dmarc_reporter.get();
    d.rt->metrics.set_gauge("mxgate_connections", [rt = d.rt.get()] { return rt->connections.total(); });
    d.rt->metrics.set_gauge("mxgate_queue_messages", [q = d.queue.get()] { return q->queued_count(); });

    // 6. listeners
    d.listeners = std::make_unique<server::ListenerSet>(*d.rt);
    try {
        d.listeners->bind_all(cfg->listeners);
        if (cfg->metrics.address)
            d.metrics_acceptor = std::make_shared<asio::ip::tcp::acceptor>(
                server::bind_listener(d.io, *cfg->metrics.address, "metrics"));
        d.control_acceptor.emplace(server::bind_control(d.io, server::control_socket_path(*cfg)));
    } catch (const std::exception& e) {
        std::cerr << "mxgate: " << e.what() << "\n";
        return 1;
    }
    const auto started = d.listeners->commit();
    asio::co_spawn(d.io, server::serve_control(*d.rt, *d.control_acceptor), asio::detached);
    d.queue->start();
    // Daily TLS-RPT reports (RFC 8460; relay/queue/tlsrpt_sender.hpp).
    d.tlsrpt = std::make_unique<queue::TlsRptSender>(*d.rt);
    d.rt->tlsrpt = d.tlsrpt.get();
    asio::co_spawn(d.io, d.tlsrpt->run(), asio::detached);

    // 7. signals, housekeeping
    asio::co_spawn(d.io, handle_signals(d), asio::detached);
    asio::co_spawn(d.io, d.dmarc_reporter->run(), asio::detached);
    asio::co_spawn(d.io, prune_greylist_loop(d), asio::detached);
    listening_events(d, started);
    if (d.metrics_acceptor) serve_metrics_on(d, *cfg->metrics.address);

    // 8. run
    // XXX One I/O thread. With several, coroutines were resumed on two
    // threads at once under load (SIGSEGV in a freed frame with 50
    // concurrent clients, Boost 1.74 Asio). Blocking work (fsync) runs on
    // Runtime::blocking and posts back, so one I/O thread is not the limit
    // on this 2-core target; revisit with a newer Asio.
    d.io.run();
    return 0;
}

}  // namespace mxgate::cli
