// dmarc/blocking_dns.cpp — see blocking_dns.hpp.
#include "dmarc/blocking_dns.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <future>
#include <mutex>

namespace mxgate::dmarc {

namespace asio = boost::asio;

namespace {

thread_local bool t_worker = false;

core::DnsReply temp_fail(std::string why) {
    core::DnsReply r;
    r.status = core::DnsStatus::temp_fail;
    r.error = std::move(why);
    return r;
}

// The answer's mailbox: set once, by the lookup or by its failure; the
// waiting worker may have given up (deadline) by then.
struct Mailbox {
    std::promise<core::DnsReply> promise;
    std::once_flag once;
    void set(core::DnsReply r) {
        std::call_once(once, [&] { promise.set_value(std::move(r)); });
    }
};

// Parameters by value: the coroutine frame owns them (STYLE: no
// temporaries inside co_await expressions).
asio::awaitable<void> run_lookup(std::shared_ptr<core::Resolver> resolver, std::string name, uint16_t type,
                                 std::shared_ptr<Mailbox> box) {
    auto op = resolver->query(std::move(name), type);
    core::DnsReply reply = co_await std::move(op);
    box->set(std::move(reply));
}

}  // namespace

BlockingDns::WorkerMark::WorkerMark() : previous_(t_worker) { t_worker = true; }
BlockingDns::WorkerMark::~WorkerMark() { t_worker = previous_; }
bool BlockingDns::on_worker() { return t_worker; }

BlockingDns::BlockingDns(asio::any_io_executor io, std::shared_ptr<core::Resolver> resolver,
                         std::chrono::milliseconds timeout)
    : io_(std::move(io)), resolver_(std::move(resolver)), timeout_(timeout) {}

core::DnsReply BlockingDns::query(const std::string& name, uint16_t type,
                                  std::chrono::steady_clock::time_point deadline) const {
    // Waiting here on the I/O thread would wait for ourselves forever.
    if (!t_worker) return temp_fail("dns: blocking lookup outside a check worker");
    if (!resolver_) return temp_fail("dns: no resolver");
    // An answer the resolver may reuse needs no trip to the I/O thread.
    if (std::optional<core::DnsReply> hit = resolver_->cached(name, type)) return std::move(*hit);
    const auto now = std::chrono::steady_clock::now();
    if (deadline != std::chrono::steady_clock::time_point::max() && deadline <= now)
        return temp_fail("dns: check time limit reached");
    auto box = std::make_shared<Mailbox>();
    std::future<core::DnsReply> answer = box->promise.get_future();
    asio::co_spawn(io_, run_lookup(resolver_, name, type, box), [box](std::exception_ptr e) {
        if (e) box->set(temp_fail("dns: lookup failed"));
    });
    const auto until = std::min(deadline, now + timeout_);
    if (answer.wait_until(until) != std::future_status::ready)
        return temp_fail("dns: no answer for " + name + " in time");
    return answer.get();
}

}  // namespace mxgate::dmarc
