// dmarc/blocking_dns.hpp — DNS for the blocking libraries (libspf2,
// libopendkim) through mxgate's one asynchronous Resolver.
//
// Interface: BlockingDns::query(name, type) runs on a check-pool worker
// thread: it spawns the lookup as a coroutine on the I/O executor and waits
// (with a deadline) for its answer. So every SPF and DKIM lookup obeys
// dns.resolver and dns.dnssec like the rest of mxgate, and the I/O thread
// never blocks. Calling it from a thread that is not marked as a check
// worker (WorkerMark) answers temp_fail instead of risking a deadlock on
// the I/O thread.
//
// SECURITY: the answers are attacker-controlled RDATA; callers parse them
// with the pure, fuzzed parsers of relay/core/dns_rdata.hpp.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "relay/core/resolver.hpp"

namespace mxgate::dmarc {

class BlockingDns {
public:
    BlockingDns(boost::asio::any_io_executor io, std::shared_ptr<core::Resolver> resolver,
                std::chrono::milliseconds timeout = std::chrono::seconds(12));

    // Blocks the calling worker thread until the answer or the deadline
    // (the earlier of `timeout` and `deadline`); then temp_fail.
    core::DnsReply query(const std::string& name, uint16_t type,
                         std::chrono::steady_clock::time_point deadline =
                             std::chrono::steady_clock::time_point::max()) const;

    // Marks the current thread as one that may block on DNS (a check-pool
    // worker) for the lifetime of the object.
    class WorkerMark {
    public:
        WorkerMark();
        ~WorkerMark();
        WorkerMark(const WorkerMark&) = delete;
        WorkerMark& operator=(const WorkerMark&) = delete;
    private:
        bool previous_;
    };
    static bool on_worker();

private:
    boost::asio::any_io_executor io_;
    std::shared_ptr<core::Resolver> resolver_;
    std::chrono::milliseconds timeout_;
};

}  // namespace mxgate::dmarc
