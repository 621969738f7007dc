// relay/core/offload.hpp — run blocking work (fsync, libspf2, SASL hashing)
// on a bounded thread pool and await it from a coroutine, which resumes on
// its own executor (its strand). Jobs take their inputs by value (STYLE §4).
//
// XXX Not co_spawn(pool, ..., use_awaitable): with Asio 1.18 the awaiting
// coroutine was seen resuming on the pool's thread, outside its strand,
// and racing its own socket under load (SIGSEGV in Session::flush with 50
// concurrent clients). Here the completion is posted explicitly to the
// caller's executor, so the coroutine continues where it belongs.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <type_traits>

namespace mxgate::core {

template <class F>
boost::asio::awaitable<std::invoke_result_t<F>> offload(boost::asio::thread_pool& pool, F f) {
    using R = std::invoke_result_t<F>;
    namespace asio = boost::asio;
    auto home = co_await asio::this_coro::executor;
    // (named locals throughout: GCC 12 co_await temporaries, docs/design.md)
    if constexpr (std::is_void_v<R>) {
        auto initiation = [&pool, home](auto handler, F fn) {
            asio::post(pool, [handler = std::move(handler), fn = std::move(fn), home]() mutable {
                fn();
                asio::post(home, [handler = std::move(handler)]() mutable { handler(); });
            });
        };
        auto op = asio::async_initiate<const asio::use_awaitable_t<>&, void()>(std::move(initiation),
                                                                                asio::use_awaitable, std::move(f));
        co_await std::move(op);
    } else {
        auto initiation = [&pool, home](auto handler, F fn) {
            asio::post(pool, [handler = std::move(handler), fn = std::move(fn), home]() mutable {
                R result = fn();
                asio::post(home, [handler = std::move(handler), result = std::move(result)]() mutable {
                    handler(std::move(result));
                });
            });
        };
        auto op = asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(std::move(initiation),
                                                                                 asio::use_awaitable, std::move(f));
        R result = co_await std::move(op);
        co_return result;
    }
}

// Like offload(), for a job that finishes through a callback: f(done) runs
// on the pool and must call done(bool) exactly once, from any thread (the
// spool's commit_async() calls it from its directory-sync thread); the
// coroutine resumes on its own executor with that value. The pool thread
// is free as soon as f returns.
template <class F>
boost::asio::awaitable<bool> offload_until(boost::asio::thread_pool& pool, F f) {
    namespace asio = boost::asio;
    auto home = co_await asio::this_coro::executor;
    auto initiation = [&pool, home](auto handler, F fn) {
        asio::post(pool, [handler = std::move(handler), fn = std::move(fn), home]() mutable {
            // std::function needs a copyable callable: share the handler.
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            fn(std::function<void(bool)>([h, home](bool ok) {
                asio::post(home, [h, ok]() mutable { (*h)(ok); });
            }));
        });
    };
    auto op = asio::async_initiate<const asio::use_awaitable_t<>&, void(bool)>(std::move(initiation),
                                                                                asio::use_awaitable, std::move(f));
    const bool result = co_await std::move(op);
    co_return result;
}

}  // namespace mxgate::core
