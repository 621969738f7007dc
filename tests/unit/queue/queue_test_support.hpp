// tests/unit/queue/queue_test_support.hpp — a fake Courier with scripted
// per-recipient outcomes, and a fixture that runs a real QueueManager over
// a memory spool inside a real io_context (STYLE §3: the Courier fake).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "relay/core/event_sink.hpp"
#include "relay/core/resolver.hpp"
#include "relay/queue/courier.hpp"
#include "relay/queue/queue_manager.hpp"
#include "relay/server/runtime.hpp"
#include "relay/spool/spool.hpp"

namespace queuetest {

namespace asio = boost::asio;
using namespace mxgate;

inline int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
}

// A Courier whose outcome for each recipient address is scripted: a queue
// of outcomes per address (the front is used and dropped; when empty the
// recipient is delivered). Records every call.
class FakeCourier final : public queue::Courier {
public:
    struct Call {
        queue::Route route;
        std::string id;
        std::string sender;
        std::vector<std::string> rcpts;
        std::string body;
    };

    void script(const std::string& rcpt, queue::RcptResult r, std::string reply) {
        std::lock_guard lock(mu_);
        script_[rcpt].push_back(queue::RcptOutcome{r, std::move(reply)});
    }
    // Next calls answer "not connected" for every recipient of this route.
    void route_down(const std::string& route_key, int times) {
        std::lock_guard lock(mu_);
        down_[route_key] = times;
    }
    // Outcome of an unscripted recipient.
    std::atomic<queue::RcptResult> fallback{queue::RcptResult::delivered};
    // While the gate is closed, deliver() waits (to test "in flight").
    std::atomic<bool> gate_closed{false};
    std::atomic<int> waiting{0};
    // What the fake next hop offers (success notices, RFC 3461 §5.2.2).
    std::atomic<bool> peer_dsn{false};
    std::atomic<bool> lmtp{false};
    // Links count as open connections (the queue then keeps an idle
    // worker's link for QueueManager::kLinger); links_made counts new ones.
    std::atomic<bool> keep_links{false};
    std::atomic<int> links_made{0};

    std::vector<Call> calls() const {
        std::lock_guard lock(mu_);
        return calls_;
    }
    size_t call_count() const {
        std::lock_guard lock(mu_);
        return calls_.size();
    }
    int closes() const { return closes_.load(); }

    asio::awaitable<queue::DeliveryOutcome> deliver(const queue::Route& route, const spool::QueuedMessage& msg,
                                                    const std::string& body, const std::vector<size_t>& rcpts,
                                                    std::unique_ptr<queue::Link>& link) override {
        if (gate_closed) {
            ++waiting;
            asio::steady_timer t(co_await asio::this_coro::executor);
            while (gate_closed) {
                t.expires_after(std::chrono::milliseconds(2));
                boost::system::error_code ec;
                co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
            --waiting;
        }
        queue::DeliveryOutcome out;
        std::lock_guard lock(mu_);
        Call c;
        c.route = route;
        c.id = msg.envelope.id;
        c.sender = msg.envelope.sender;
        c.body = body;
        for (size_t i : rcpts) c.rcpts.push_back(msg.envelope.recipients[i].address);
        calls_.push_back(c);
        if (auto it = down_.find(route.key()); it != down_.end() && it->second > 0) {
            --it->second;
            out.connected = false;
            out.mx = "192.0.2.99:25";
            out.error = "connect: Connection refused";
            for (size_t k = 0; k < rcpts.size(); ++k)
                out.rcpts.push_back({queue::RcptResult::transient, "connect: Connection refused"});
            co_return out;
        }
        out.connected = true;
        out.mx = "fake.example:25";
        out.peer_dsn = peer_dsn.load();
        out.lmtp = lmtp.load();
        if (!link) {
            link = std::make_unique<queue::Link>();
            ++links_made;
        }
        for (const auto& a : c.rcpts) {
            auto& q = script_[a];
            if (q.empty()) {
                const queue::RcptResult r = fallback.load();
                out.rcpts.push_back({r, r == queue::RcptResult::delivered ? "250 2.0.0 Ok: queued"
                                                                          : "451 4.3.0 fake deferral"});
            } else {
                out.rcpts.push_back(q.front());
                q.pop_front();
            }
        }
        co_return out;
    }

    bool connected(const std::unique_ptr<queue::Link>& link) const override { return keep_links && link; }

    asio::awaitable<void> close(std::unique_ptr<queue::Link>& link) override {
        link.reset();
        ++closes_;
        co_return;
    }

private:
    mutable std::mutex mu_;
    std::vector<Call> calls_;
    std::map<std::string, std::deque<queue::RcptOutcome>> script_;
    std::map<std::string, int> down_;
    std::atomic<int> closes_{0};
};

inline conf::Domain owner_domain(const std::string& name, const std::string& downstream_ip) {
    conf::Domain d;
    d.name = name;
    d.recipients = {"@" + name};
    d.downstream.address = conf::HostPort{downstream_ip, 25};
    d.downstream.tls = conf::DownstreamTls::none;
    return d;
}

// The configuration these tests use, filled in code.
inline std::shared_ptr<conf::Config> base_config() {
    auto cfg = std::make_shared<conf::Config>();
    cfg->hostname = "mx.test.example";
    cfg->spool = "";  // memory spool; no state/routes file
    cfg->domains.push_back(owner_domain("one.example", "192.0.2.1"));
    cfg->domains.push_back(owner_domain("two.example", "192.0.2.2"));
    cfg->queue.retry = {std::chrono::seconds(600), std::chrono::seconds(1200)};
    cfg->queue.max_lifetime = std::chrono::hours(24);
    cfg->queue.delay_warning = std::chrono::hours(4);
    conf::Listener l;
    l.name = "mx";
    l.role = conf::ListenerRole::mx;
    l.address = conf::HostPort{"127.0.0.1", 0};
    l.tls = conf::ListenerTls::none;
    cfg->listeners.push_back(l);
    return cfg;
}

// A real QueueManager over a memory spool (or a given spool), in a real
// io_context driven by bounded run_for loops.
struct QueueFixture {
    asio::io_context io;
    std::shared_ptr<core::CaptureSink> events = std::make_shared<core::CaptureSink>();
    std::shared_ptr<spool::Spool> spool;
    std::shared_ptr<core::StaticResolver> resolver = std::make_shared<core::StaticResolver>();
    std::shared_ptr<conf::Config> cfg = base_config();
    std::shared_ptr<FakeCourier> courier = std::make_shared<FakeCourier>();
    std::unique_ptr<server::Runtime> rt;
    std::unique_ptr<queue::QueueManager> qm;

    explicit QueueFixture(std::shared_ptr<spool::Spool> sp = spool::make_memory_spool()) : spool(std::move(sp)) {}

    ~QueueFixture() {
        if (qm) {
            qm->stop();
            run_until([&] { return !qm->busy(); }, std::chrono::seconds(2));
            run_for(std::chrono::milliseconds(20));
        }
        qm.reset();
        rt.reset();
    }

    void start() {
        auto snap = std::make_shared<server::Snapshot>();
        snap->config = cfg;
        rt = std::make_unique<server::Runtime>(io, events, spool, resolver, snap);
        qm = std::make_unique<queue::QueueManager>(*rt, courier);
        rt->queue = qm.get();
        qm->start();
    }

    // Commits a message directly into the spool (not enqueued).
    std::string commit(const std::string& sender, const std::vector<std::string>& rcpts,
                       int64_t age_seconds = 0, const std::string& body = "Subject: t\r\n\r\nhello\r\n") {
        auto w = spool->begin();
        REQUIRE(w);
        REQUIRE(w->write(body));
        spool::Envelope env;
        env.id = w->id();
        env.sender = sender;
        for (const auto& r : rcpts) env.recipients.push_back(spool::Recipient{r, "", spool::RcptState::pending, ""});
        env.arrival = unix_now() - age_seconds;
        env.client_ip = "198.51.100.7";
        env.helo = "client.example.net";
        env.listener = "mx";
        env.prepend = "Received: from client.example.net\r\n";
        REQUIRE(w->commit(env));
        return env.id;
    }
    // Commits and tells the queue manager.
    std::string submit(const std::string& sender, const std::vector<std::string>& rcpts, int64_t age_seconds = 0) {
        const std::string id = commit(sender, rcpts, age_seconds);
        qm->enqueue(id);
        return id;
    }

    void run_for(std::chrono::milliseconds d) {
        if (io.stopped()) io.restart();
        io.run_for(d);
    }
    // Drives the io_context until pred() holds or the time is up.
    bool run_until(const std::function<bool()>& pred,
                   std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (!pred()) {
            if (std::chrono::steady_clock::now() >= end) return false;
            run_for(std::chrono::milliseconds(2));
        }
        return true;
    }
    // Runs until the queue is idle (nothing in flight) after at least one step.
    bool settle() {
        run_for(std::chrono::milliseconds(5));
        return run_until([&] { return !qm->busy(); });
    }

    size_t count(std::string_view event) const { return events->named(event).size(); }
    bool in_spool(const std::string& id) const { return spool->load(id).has_value(); }
    // Messages from the null sender now in the spool (DSNs).
    std::vector<spool::QueuedMessage> dsns() const {
        std::vector<spool::QueuedMessage> out;
        for (const auto& id : spool->list(false))
            if (auto m = spool->load(id); m && m->envelope.sender.empty()) out.push_back(*m);
        return out;
    }
};

inline std::vector<std::string> strings(const core::Event& e, core::Field f) {
    const core::Value* v = e.get(f);
    if (!v) return {};
    if (auto p = std::get_if<std::vector<std::string>>(v)) return *p;
    return {};
}

}  // namespace queuetest
