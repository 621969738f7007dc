// dmarc/checks.hpp — the bounded pool the blocking inbound-check libraries
// run on (libspf2, libopendkim, and libopendmarc for dmarc/dmarc*), and the
// awaitable API the SMTP session uses:
//
//     auto op = rt.checks->spf(input);           // named locals (GCC 12 note)
//     std::optional<SpfVerdict> v = co_await std::move(op);
//     if (!v) → the pool is full: answer 451 4.3.2 (replies::checks_busy)
//
// The pool has `threads` workers; at most `threads + queue` jobs may be in
// flight. A job beyond that is refused at once (nullopt) instead of
// waiting in an unbounded queue, so a flood of slow DNS cannot stall every
// session behind it (STYLE §4, SPEC §6). Jobs run through core::offload
// and take their inputs by value; the awaiting coroutine resumes on its own
// executor.
//
// DNS: workers resolve through BlockingDns → the Resolver on the I/O
// executor; `dns()` gives other blocking checks (DMARC) the same bridge.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "dmarc/blocking_dns.hpp"
#include "dmarc/dkim_verify.hpp"
#include "dmarc/spf_check.hpp"
#include "dmarc/verdicts.hpp"
#include "relay/core/offload.hpp"

namespace mxgate::dmarc {

struct CheckPoolOptions {
    size_t threads = 8;   // blocking libraries mostly wait on DNS, not on CPU
    size_t queue = 56;    // jobs that may wait for a worker beyond those running
    std::chrono::milliseconds dns_timeout = std::chrono::seconds(12);
};

class Checks {
public:
    Checks(boost::asio::any_io_executor io, std::shared_ptr<core::Resolver> resolver, CheckPoolOptions opts = {});
    ~Checks();

    // nullopt = the pool is full (answer 451 4.3.2).
    boost::asio::awaitable<std::optional<SpfVerdict>> spf(SpfInput input);
    // The message as spooled, read in blocks on the pool (verify_dkim_blocks:
    // the session passes a reader of its spool file, not a copy in memory).
    boost::asio::awaitable<std::optional<DkimVerdicts>> dkim(MessageBlocks next);

    // Any other blocking check: fn(const BlockingDns&) -> R, R default-constructible.
    template <class F>
    boost::asio::awaitable<std::optional<std::invoke_result_t<F, const BlockingDns&>>> run(F fn);

    size_t in_flight() const { return in_flight_.load(); }
    size_t capacity() const { return capacity_; }
    const BlockingDns& dns() const { return dns_; }

private:
    bool try_acquire();
    void release() { in_flight_.fetch_sub(1); }

    BlockingDns dns_;
    size_t capacity_;
    std::atomic<size_t> in_flight_{0};
    boost::asio::thread_pool pool_;
};

template <class F>
boost::asio::awaitable<std::optional<std::invoke_result_t<F, const BlockingDns&>>> Checks::run(F fn) {
    using R = std::invoke_result_t<F, const BlockingDns&>;
    if (!try_acquire()) co_return std::nullopt;
    auto job = [this, fn = std::move(fn)]() mutable -> std::optional<R> {
        BlockingDns::WorkerMark mark;
        std::optional<R> r;
        try {
            r = fn(dns_);
        } catch (...) {
            r.reset();  // a library failure: report as busy/temporary
        }
        release();
        return r;
    };
    auto op = core::offload(pool_, std::move(job));
    std::optional<R> result = co_await std::move(op);
    co_return result;
}

}  // namespace mxgate::dmarc
