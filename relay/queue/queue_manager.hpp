// relay/queue/queue_manager.hpp — schedules deliveries of spooled mail.
//
// Like Postfix's qmgr: the spool is the truth, this class is an index of
// it in memory. It loads queue/ at start (a message that fails to parse is
// quarantined with a `queue.corrupt` event, never a crash loop), is told of
// each newly committed message, groups pending recipients by Route (owner
// domain → downstream, other domains → their MX), and runs up to
// kWorkersPerRoute workers per route, each keeping one connection open
// while its route has ready messages.
//
// After an attempt: delivered recipients are recorded, permanent failures
// bounce (RFC 3464 DSN to the envelope sender, never to <>), transient ones
// retry per queue.retry (then every last interval) until max_lifetime,
// when they bounce too; a delay warning goes out once after delay_warning.
// The delivery state is written durably after every attempt, so a crash
// repeats at most the delivery that was in flight.
//
// Thread safety: public methods may be called from any thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "relay/queue/courier.hpp"
#include "relay/queue/downstream_status.hpp"
#include "relay/server/runtime.hpp"

namespace mxgate::queue {

// Retry delay after the given number of failed attempts (1-based):
// queue.retry[n-1], then the last interval forever (SPEC §3).
std::chrono::seconds retry_delay(const conf::QueueConfig& q, int failed_attempts);

class QueueManager {
public:
    static constexpr int kWorkersPerRoute = 8;
    // How long a worker whose downstream route (the home box; MX routes
    // do not linger) ran out of ready messages keeps its
    // connection open for the next one (Postfix's connection cache keeps
    // one 2 s: smtp_connection_cache_time_limit). The next message then
    // costs an RSET (pipelined with it) instead of connect, EHLO and QUIT.
    static constexpr std::chrono::milliseconds kLinger{2000};

    // courier = nullptr uses the SMTP/LMTP courier (relay/queue/smtp_courier).
    explicit QueueManager(server::Runtime& rt, std::shared_ptr<Courier> courier = nullptr);
    ~QueueManager();

    void start();              // loads the spool and starts the scheduler
    void stop();               // stops starting new deliveries (drain)
    bool busy() const;         // deliveries in flight
    size_t queued_count() const;

    void enqueue(const std::string& id);        // a message was just committed (read from the spool)
    void enqueue(const spool::Envelope& env);   // the same, from the envelope the committer holds
    void flush_all();                            // retry everything now
    size_t flush_domain(const std::string& domain);  // ETRN: owner domain or recipient domain
    bool flush_id(const std::string& id);
    // Administrative actions (mxgate queue ...). false + error text when the
    // message is unknown or being delivered right now.
    bool delete_message(const std::string& id, std::string& error);
    bool bounce_message(const std::string& id, std::string& error);
    bool release_message(const std::string& id, std::string& error);

    DownstreamStatus& status() { return status_; }

private:
    struct Entry {
        std::string id;
        int64_t arrival = 0;
        bool in_flight = false;
        // Each recipient domain still pending, with the time it is due. Per
        // domain, so a route that keeps deferring never holds back the
        // message's other routes. (The spool keeps one next_attempt per
        // message: the earliest of these.)
        std::map<std::string, std::chrono::system_clock::time_point> due;
    };

    boost::asio::awaitable<void> scheduler();
    boost::asio::awaitable<void> worker(Route route);
    boost::asio::awaitable<void> attempt(const Route& route, const std::string& id, std::unique_ptr<Link>& link);
    // Records an attempt's outcome in msg; true when a recipient deferred.
    bool apply(const Route& route, spool::QueuedMessage& msg, const std::vector<size_t>& rcpts,
               const DeliveryOutcome& out);
    boost::asio::awaitable<void> finish_or_reschedule(const Route& route, spool::QueuedMessage& msg,
                                                      bool had_deferral);
    void bounce(const spool::QueuedMessage& msg, const std::vector<size_t>& failed, bool delay_only);
    void notify_success(const spool::QueuedMessage& msg, const std::vector<size_t>& delivered,
                        const DeliveryOutcome& out);
    Route route_for(const std::string& rcpt_domain) const;
    void load_one(const std::string& id);
    // Indexes a message: every recipient not done under st is pending (st
    // null: a fresh message, all pending, due now).
    void index(const spool::Envelope& env, const spool::DeliveryState* st);
    // True (with error) when id is being delivered right now; caller holds mu_.
    bool in_delivery(const std::string& id, std::string& error) const;
    void dispatch_due(const std::string* only = nullptr);  // caller holds mu_; only: just that entry
    void wake_idle(const std::string& key, size_t n);      // caller holds mu_
    void wake();

    server::Runtime& rt_;
    std::shared_ptr<Courier> courier_;
    DownstreamStatus status_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::steady_timer wake_timer_;

    mutable std::mutex mu_;
    std::map<std::string, Entry> entries_;
    std::map<std::string, std::deque<std::string>> ready_;  // route key -> ids
    std::map<std::string, Route> routes_;
    std::map<std::string, int> workers_;                    // route key -> count (idle ones included)
    // Workers waiting out kLinger with an open connection, per route key;
    // dispatch_due() wakes one per ready message (cancels its timer).
    std::map<std::string, std::vector<std::shared_ptr<boost::asio::steady_timer>>> idle_;
    int in_flight_ = 0;
    bool stopped_ = false;
};

}  // namespace mxgate::queue
