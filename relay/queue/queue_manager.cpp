#include "relay/queue/queue_manager.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "relay/core/offload.hpp"
#include "relay/queue/bounce.hpp"
#include "relay/queue/smtp_courier.hpp"

namespace mxgate::queue {

namespace asio = boost::asio;
using core::Event;
using core::Field;
using SysClock = std::chrono::system_clock;

namespace {

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(SysClock::now().time_since_epoch()).count();
}

std::string domain_of(const std::string& address) {
    const auto at = address.rfind('@');
    std::string d = at == std::string::npos ? std::string() : address.substr(at + 1);
    for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return d;
}

std::vector<std::string> addresses(const spool::Envelope& env, const std::vector<size_t>& idx) {
    std::vector<std::string> out;
    for (size_t i : idx) out.push_back(env.recipients[i].address);
    return out;
}

}  // namespace

std::chrono::seconds retry_delay(const conf::QueueConfig& q, int failed_attempts) {
    if (q.retry.empty()) return std::chrono::minutes(5);
    const size_t i = static_cast<size_t>(std::max(1, failed_attempts) - 1);
    return q.retry[std::min(i, q.retry.size() - 1)];
}

QueueManager::QueueManager(server::Runtime& rt, std::shared_ptr<Courier> courier)
    : rt_(rt),
      courier_(courier ? std::move(courier) : make_smtp_courier(rt)),
      status_(rt.snapshot()->config->spool.empty() ? std::string()
                                                   : rt.snapshot()->config->spool + "/state/routes"),
      strand_(asio::make_strand(rt.io)),
      wake_timer_(strand_) {}

QueueManager::~QueueManager() = default;

void QueueManager::start() {
    for (const auto& id : rt_.spool->list(false)) load_one(id);
    asio::co_spawn(strand_, scheduler(), asio::detached);
}

void QueueManager::load_one(const std::string& id) {
    auto m = rt_.spool->load(id);
    if (!m) {
        const std::string where = rt_.spool->quarantine(id, "envelope or state failed to parse");
        rt_.events->emit(Event("queue.corrupt").set(Field::queue_id, id).set(Field::path, where));
        return;
    }
    index(m->envelope, &m->state);
}

void QueueManager::index(const spool::Envelope& env, const spool::DeliveryState* st) {
    Entry e;
    e.id = env.id;
    e.arrival = env.arrival;
    const auto when = SysClock::time_point(std::chrono::seconds(st ? st->next_attempt : 0));
    for (size_t i = 0; i < env.recipients.size(); ++i)
        if (!st || i >= st->rcpt_state.size() || st->rcpt_state[i] == spool::RcptState::pending)
            e.due[domain_of(env.recipients[i].address)] = when;
    std::lock_guard lock(mu_);
    entries_[env.id] = std::move(e);
}

bool QueueManager::in_delivery(const std::string& id, std::string& error) const {
    auto it = entries_.find(id);
    if (it == entries_.end() || !it->second.in_flight) return false;
    error = "message " + id + " is being delivered; try again";
    return true;
}

void QueueManager::stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    asio::post(strand_, [this] { wake_timer_.cancel(); });
    for (auto& [key, idle] : idle_) wake_idle(key, idle.size());  // they QUIT and end
}

bool QueueManager::busy() const {
    std::lock_guard lock(mu_);
    return in_flight_ > 0;
}

size_t QueueManager::queued_count() const {
    std::lock_guard lock(mu_);
    return entries_.size();
}

void QueueManager::enqueue(const spool::Envelope& env) {
    // No read-back of the file just committed: the envelope is in hand.
    index(env, nullptr);
    std::lock_guard lock(mu_);
    dispatch_due(&env.id);
}

void QueueManager::enqueue(const std::string& id) {
    load_one(id);
    std::lock_guard lock(mu_);
    // Only this message can have become due: no walk over the whole index
    // for every accepted message (that was O(queue) per message).
    dispatch_due(&id);
}

void QueueManager::flush_all() {
    std::lock_guard lock(mu_);
    for (auto& [id, e] : entries_)
        for (auto& [d, when] : e.due) when = SysClock::time_point{};
    dispatch_due();
}

size_t QueueManager::flush_domain(const std::string& domain) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (auto& [id, e] : entries_)
        if (auto d = e.due.find(domain); d != e.due.end()) {
            d->second = SysClock::time_point{};
            ++n;
        }
    dispatch_due();
    return n;
}

bool QueueManager::flush_id(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return false;
    for (auto& [d, when] : it->second.due) when = SysClock::time_point{};
    dispatch_due();
    return true;
}

bool QueueManager::delete_message(const std::string& id, std::string& error) {
    std::lock_guard lock(mu_);
    if (in_delivery(id, error)) return false;
    auto it = entries_.find(id);
    if (!rt_.spool->remove(id)) {
        error = "no message " + id;
        return false;
    }
    if (it != entries_.end()) entries_.erase(it);
    rt_.events->emit(Event("queue.deleted").set(Field::queue_id, id));
    return true;
}

bool QueueManager::bounce_message(const std::string& id, std::string& error) {
    {
        std::lock_guard lock(mu_);
        if (in_delivery(id, error)) return false;
    }
    auto msg = rt_.spool->load(id);
    if (!msg) {
        error = "no message " + id;
        return false;
    }
    auto& st = msg->state;
    st.rcpt_state.resize(msg->envelope.recipients.size(), spool::RcptState::pending);
    st.rcpt_reply.resize(msg->envelope.recipients.size());
    std::vector<size_t> pending;
    for (size_t i = 0; i < st.rcpt_state.size(); ++i)
        if (st.rcpt_state[i] == spool::RcptState::pending) {
            pending.push_back(i);
            st.rcpt_reply[i] = "message bounced by the administrator" +
                               (st.rcpt_reply[i].empty() ? std::string() : "; last error: " + st.rcpt_reply[i]);
        }
    rt_.events->emit(Event("delivery.bounced")
                         .set(Field::queue_id, id)
                         .set(Field::sender, msg->envelope.sender)
                         .set(Field::recipients, addresses(msg->envelope, pending))
                         .set(Field::reason, "bounced by the administrator"));
    bounce(*msg, pending, false);
    rt_.spool->remove(id);
    std::lock_guard lock(mu_);
    entries_.erase(id);
    return true;
}

bool QueueManager::release_message(const std::string& id, std::string& error) {
    if (!rt_.spool->release(id)) {
        error = "message " + id + " is not held";
        return false;
    }
    rt_.events->emit(Event("queue.released").set(Field::queue_id, id));
    enqueue(id);
    return true;
}

void QueueManager::wake() {
    asio::post(strand_, [this] { wake_timer_.cancel(); });
}

Route QueueManager::route_for(const std::string& rcpt_domain) const {
    const auto snap = rt_.snapshot();
    if (const conf::Domain* d = snap->config->find_domain(rcpt_domain))
        return Route{Route::Kind::downstream, d->name};
    return Route{Route::Kind::mx, rcpt_domain};
}

// Moves every due, idle entry to its route's ready list and makes sure the
// route has workers. One route per message at a time: a message whose
// recipients span routes is attempted route by route, so two workers never
// write the same message's state.
void QueueManager::dispatch_due(const std::string* only) {
    if (stopped_) return;
    const auto now = SysClock::now();
    const auto make_ready = [&](Entry& e) {
        if (e.in_flight) return;
        const auto d = std::find_if(e.due.begin(), e.due.end(), [&](const auto& kv) { return kv.second <= now; });
        if (d == e.due.end()) return;
        const Route r = route_for(d->first);
        e.in_flight = true;
        ++in_flight_;
        routes_[r.key()] = r;
        ready_[r.key()].push_back(e.id);
    };
    if (only) {
        if (auto it = entries_.find(*only); it != entries_.end()) make_ready(it->second);
    } else {
        for (auto& [id, e] : entries_) make_ready(e);
    }
    for (auto& [key, q] : ready_) {
        if (q.empty()) continue;
        wake_idle(key, q.size());
        int& w = workers_[key];
        const int want = std::min<int>(kWorkersPerRoute, static_cast<int>(q.size()));
        for (; w < want; ++w) asio::co_spawn(asio::make_strand(rt_.io), worker(routes_[key]), asio::detached);
    }
}

void QueueManager::wake_idle(const std::string& key, size_t n) {
    auto it = idle_.find(key);
    if (it == idle_.end()) return;
    auto& idle = it->second;
    for (; n > 0 && !idle.empty(); --n) {
        // The timer belongs to the worker's strand: cancel it there. The
        // worker re-checks the ready list either way (cancel or expiry).
        auto t = std::move(idle.back());
        idle.pop_back();
        asio::post(t->get_executor(), [t] { t->cancel(); });
    }
}

asio::awaitable<void> QueueManager::scheduler() {
    for (;;) {
        SysClock::time_point next = SysClock::now() + std::chrono::seconds(30);
        {
            std::lock_guard lock(mu_);
            if (stopped_) co_return;
            dispatch_due();
            for (const auto& [id, e] : entries_)
                if (!e.in_flight)
                    for (const auto& [d, when] : e.due) next = std::min(next, when);
        }
        wake_timer_.expires_at(std::chrono::steady_clock::now() +
                               std::max(std::chrono::milliseconds(10),
                                        std::chrono::duration_cast<std::chrono::milliseconds>(next - SysClock::now())));
        boost::system::error_code ec;
        co_await wake_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

asio::awaitable<void> QueueManager::worker(Route route) {
    const std::string key = route.key();
    std::unique_ptr<Link> link;
    const auto ex = co_await asio::this_coro::executor;
    const auto idle_timer = std::make_shared<asio::steady_timer>(ex);
    auto linger_until = std::chrono::steady_clock::now();
    for (;;) {
        std::string id;
        bool wait = false;
        {
            std::lock_guard lock(mu_);
            auto& q = ready_[key];
            if (!q.empty() && !stopped_) {
                id = q.front();
                q.pop_front();
            } else if (route.kind == Route::Kind::downstream && !stopped_ &&
                       std::chrono::steady_clock::now() < linger_until && courier_->connected(link)) {
                // Nothing ready: keep the connection a moment for the next
                // message (kLinger); dispatch_due() wakes us.
                idle_[key].push_back(idle_timer);
                wait = true;
            } else {
                --workers_[key];
                break;
            }
        }
        if (wait) {
            idle_timer->expires_at(linger_until);
            boost::system::error_code ec;
            co_await idle_timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
            std::lock_guard lock(mu_);
            auto& idle = idle_[key];
            idle.erase(std::remove(idle.begin(), idle.end(), idle_timer), idle.end());
            continue;
        }
        co_await attempt(route, id, link);
        linger_until = std::chrono::steady_clock::now() + kLinger;
    }
    co_await courier_->close(link);
    // Entries that were readied but not taken (stop) are idle again.
    std::lock_guard lock(mu_);
    if (workers_[key] == 0) {
        for (const auto& id : ready_[key]) {
            auto it = entries_.find(id);
            if (it != entries_.end() && it->second.in_flight) {
                it->second.in_flight = false;
                --in_flight_;
            }
        }
        ready_[key].clear();
    }
}

asio::awaitable<void> QueueManager::attempt(const Route& route, const std::string& id,
                                            std::unique_ptr<Link>& link) {
    std::string body;
    auto msg = rt_.spool->load_with_body(id, body);  // one open, one read
    if (!msg) {
        const std::string where = rt_.spool->quarantine(id, "unreadable at delivery");
        rt_.events->emit(Event("queue.corrupt").set(Field::queue_id, id).set(Field::path, where));
        std::lock_guard lock(mu_);
        entries_.erase(id);
        --in_flight_;
        co_return;
    }
    auto& st = msg->state;
    st.rcpt_state.resize(msg->envelope.recipients.size(), spool::RcptState::pending);
    st.rcpt_reply.resize(msg->envelope.recipients.size());
    std::vector<size_t> rcpts;
    for (size_t i = 0; i < msg->envelope.recipients.size(); ++i)
        if (st.rcpt_state[i] == spool::RcptState::pending &&
            route_for(domain_of(msg->envelope.recipients[i].address)) == route)
            rcpts.push_back(i);

    DeliveryOutcome out;
    if (!rcpts.empty()) out = co_await courier_->deliver(route, *msg, body, rcpts, link);
    const bool had_deferral = apply(route, *msg, rcpts, out);
    co_await finish_or_reschedule(route, *msg, had_deferral);
}

bool QueueManager::apply(const Route& route, spool::QueuedMessage& msg, const std::vector<size_t>& rcpts,
                         const DeliveryOutcome& out) {
    auto& env = msg.envelope;
    auto& st = msg.state;
    std::vector<size_t> delivered, failed, deferred;
    for (size_t k = 0; k < rcpts.size(); ++k) {
        const size_t i = rcpts[k];
        const RcptOutcome o = k < out.rcpts.size() ? out.rcpts[k]
                                                   : RcptOutcome{RcptResult::transient, out.error};
        st.rcpt_reply[i] = o.reply;
        if (o.result == RcptResult::delivered) {
            st.rcpt_state[i] = spool::RcptState::delivered;
            delivered.push_back(i);
        } else if (o.result == RcptResult::permanent) {
            st.rcpt_state[i] = spool::RcptState::failed;
            failed.push_back(i);
        } else {
            deferred.push_back(i);
        }
    }
    const std::string key = route.key();
    if (out.connected)
        status_.record_success(key, out.mx);
    else if (!rcpts.empty())
        status_.record_failure(key, out.mx, out.error);

    if (!delivered.empty())
        rt_.events->emit(Event("delivery.success")
                             .set(Field::queue_id, env.id)
                             .set(Field::sender, env.sender)
                             .set(Field::recipients, addresses(env, delivered))
                             .set(Field::domain, route.domain)
                             .set(Field::mx, out.mx)
                             .set(Field::reply, delivered.empty() ? std::string() : st.rcpt_reply[delivered[0]]));
    if (!delivered.empty()) notify_success(msg, delivered, out);
    if (!failed.empty()) {
        rt_.events->emit(Event("delivery.bounced")
                             .set(Field::queue_id, env.id)
                             .set(Field::sender, env.sender)
                             .set(Field::recipients, addresses(env, failed))
                             .set(Field::domain, route.domain)
                             .set(Field::mx, out.mx)
                             .set(Field::reason, st.rcpt_reply[failed[0]]));
        bounce(msg, failed, false);
    }
    if (!deferred.empty()) {
        st.last_error = st.rcpt_reply[deferred[0]];
        rt_.events->emit(Event("delivery.deferred")
                             .set(Field::queue_id, env.id)
                             .set(Field::sender, env.sender)
                             .set(Field::recipients, addresses(env, deferred))
                             .set(Field::domain, route.domain)
                             .set(Field::mx, out.mx)
                             .set(Field::reason, st.last_error)
                             .set(Field::attempts, st.attempts + 1));
    }
    return !deferred.empty();
}

// Decides what happens next to a message after an attempt: removed when
// no recipient is pending; else retried later, bounced at max_lifetime,
// with one delay warning after delay_warning.
asio::awaitable<void> QueueManager::finish_or_reschedule(const Route& route, spool::QueuedMessage& msg,
                                                         bool had_deferral) {
    auto& env = msg.envelope;
    auto& st = msg.state;
    const auto snap = rt_.snapshot();
    const auto& qc = snap->config->queue;
    const int64_t now = unix_now();

    std::set<std::string> pending_domains;
    std::vector<size_t> pending;
    for (size_t i = 0; i < env.recipients.size(); ++i)
        if (st.rcpt_state[i] == spool::RcptState::pending) {
            pending.push_back(i);
            pending_domains.insert(domain_of(env.recipients[i].address));
        }

    if (!pending.empty() && had_deferral && now - env.arrival >= qc.max_lifetime.count()) {
        // Expired: the pending recipients fail now (RFC 5321 §4.5.4.1).
        for (size_t i : pending) {
            st.rcpt_state[i] = spool::RcptState::failed;
            if (st.rcpt_reply[i].empty()) st.rcpt_reply[i] = st.last_error;
            st.rcpt_reply[i] = "delivery time expired; last error: " + st.rcpt_reply[i];
        }
        rt_.events->emit(Event("delivery.bounced")
                             .set(Field::queue_id, env.id)
                             .set(Field::sender, env.sender)
                             .set(Field::recipients, addresses(env, pending))
                             .set(Field::reason, "queue.max_lifetime reached: " + st.last_error));
        bounce(msg, pending, false);
        pending.clear();
        pending_domains.clear();
    }

    if (pending.empty()) {
        // Unlink here (the entry is in flight: nobody else touches it), but
        // never wait for fsync(queue/) on an I/O thread or under mu_: one
        // fsync on the blocking pool covers every removal before it (and
        // the next commit's fsync of queue/ covers them too). Until it has
        // run, a crash can only bring a delivered message back (a
        // duplicate, as in Postfix, which never syncs its unlinks).
        rt_.spool->remove_unsynced(env.id);
        rt_.spool->sync_removals_async();  // joins the spool's next directory fsync; never blocks here
        std::lock_guard lock(mu_);
        --in_flight_;
        entries_.erase(env.id);
        co_return;
    }
    // Next due time per pending domain: the attempted route's domains retry
    // per queue.retry after a deferral; the others keep theirs (and are due
    // at once after a success on this route).
    std::map<std::string, SysClock::time_point> due;
    {
        std::lock_guard lock(mu_);
        if (auto it = entries_.find(env.id); it != entries_.end()) due = it->second.due;
    }
    const auto now_tp = SysClock::time_point(std::chrono::seconds(now));
    if (had_deferral) {
        ++st.attempts;
        if (!st.delay_warned && now - env.arrival >= qc.delay_warning.count()) {
            st.delay_warned = true;
            bounce(msg, pending, true);
        }
    }
    const auto retry_at = now_tp + retry_delay(qc, std::max(1, st.attempts));
    std::map<std::string, SysClock::time_point> next_due;
    for (const auto& d : pending_domains) {
        const bool attempted = route_for(d) == route;
        if (attempted && had_deferral) next_due[d] = retry_at;
        else if (auto old = due.find(d); old != due.end() && !attempted) next_due[d] = old->second;
        else next_due[d] = now_tp;
    }
    SysClock::time_point earliest = next_due.begin()->second;
    for (const auto& [d, when] : next_due) earliest = std::min(earliest, when);
    st.next_attempt = std::chrono::duration_cast<std::chrono::seconds>(earliest.time_since_epoch()).count();

    // The state write ends in fsyncs: on the blocking pool, never on an I/O
    // thread or under mu_. The entry stays in flight meanwhile.
    auto write_job = [spool = rt_.spool, id = env.id, st]() { return spool->update(id, st); };
    auto write_op = core::offload(rt_.blocking, std::move(write_job));
    const bool written = co_await std::move(write_op);
    if (!written) rt_.events->emit(Event("queue.write_failed").set(Field::queue_id, env.id).set(Field::reason, "state"));

    std::lock_guard lock(mu_);
    --in_flight_;
    if (auto it = entries_.find(env.id); it != entries_.end()) {
        it->second.in_flight = false;
        it->second.due = std::move(next_due);
    }
    dispatch_due(&env.id);
    wake();
}

// NOTIFY=SUCCESS (RFC 3461 §5.2.2): a next hop with DSN got NOTIFY and
// answers itself; otherwise we send "relayed" (SMTP) or "delivered" (LMTP).
void QueueManager::notify_success(const spool::QueuedMessage& msg, const std::vector<size_t>& delivered,
                                  const DeliveryOutcome& out) {
    const auto kind = success_notice_kind(out.peer_dsn, out.lmtp);
    if (!kind) return;
    const auto snap = rt_.snapshot();
    auto id = queue_dsn(*rt_.spool, *snap->config, msg, delivered, *kind, out.mx, *rt_.events);
    if (id) asio::post(strand_, [this, nid = *id] { enqueue(nid); });
}

void QueueManager::bounce(const spool::QueuedMessage& msg, const std::vector<size_t>& rcpts, bool delay_only) {
    const auto snap = rt_.snapshot();
    auto id = queue_bounce(*rt_.spool, *snap->config, msg, rcpts, delay_only, *rt_.events);
    if (id) {
        // enqueue() takes mu_; bounce() may be called with it held.
        asio::post(strand_, [this, nid = *id] { enqueue(nid); });
    }
}

}  // namespace mxgate::queue
