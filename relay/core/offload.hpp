// relay/core/offload.hpp — run blocking work (fsync, libspf2, SASL hashing)
// on a bounded thread pool and await it from a coroutine, which resumes on
// its own executor. Jobs take their inputs by value (STYLE §4).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

namespace mxgate::core {

template <class F>
boost::asio::awaitable<std::invoke_result_t<F>> offload(boost::asio::thread_pool& pool, F f) {
    using R = std::invoke_result_t<F>;
    // XXX GCC 12 destroys non-trivial temporaries of a co_await
    // full-expression twice, and miscompiles "co_return co_await": every
    // operand is a named local and the result is stored before co_return.
    auto job = [f = std::move(f)]() mutable -> boost::asio::awaitable<R> { co_return f(); };
    auto op = boost::asio::co_spawn(pool, std::move(job), boost::asio::use_awaitable);
    if constexpr (std::is_void_v<R>) {
        co_await std::move(op);
    } else {
        R result = co_await std::move(op);
        co_return result;
    }
}

}  // namespace mxgate::core
