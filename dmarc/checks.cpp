// dmarc/checks.cpp — see checks.hpp.
#include "dmarc/checks.hpp"

namespace mxgate::dmarc {

namespace asio = boost::asio;

Checks::Checks(asio::any_io_executor io, std::shared_ptr<core::Resolver> resolver, CheckPoolOptions opts)
    : dns_(std::move(io), std::move(resolver), opts.dns_timeout),
      capacity_(std::max<size_t>(1, opts.threads) + opts.queue),
      pool_(std::max<size_t>(1, opts.threads)) {}

Checks::~Checks() {
    pool_.join();
}

bool Checks::try_acquire() {
    size_t n = in_flight_.load();
    while (n < capacity_)
        if (in_flight_.compare_exchange_weak(n, n + 1)) return true;
    return false;
}

asio::awaitable<std::optional<SpfVerdict>> Checks::spf(SpfInput input) {
    auto fn = [input = std::move(input)](const BlockingDns& dns) { return check_spf(dns, input); };
    auto op = run(std::move(fn));
    std::optional<SpfVerdict> v = co_await std::move(op);
    co_return v;
}

asio::awaitable<std::optional<DkimVerdicts>> Checks::dkim(MessageBlocks next) {
    auto fn = [next = std::move(next)](const BlockingDns& dns) { return verify_dkim_blocks(dns, next); };
    auto op = run(std::move(fn));
    std::optional<DkimVerdicts> v = co_await std::move(op);
    co_return v;
}

}  // namespace mxgate::dmarc
