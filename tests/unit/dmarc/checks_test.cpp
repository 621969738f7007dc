// The bounded check pool (dmarc/checks.hpp): verdicts come back to the
// awaiting coroutine; a full pool answers "busy" at once.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <catch2/catch.hpp>
#include <future>

#include "dmarc/checks.hpp"
#include "dns_fixture.hpp"

using namespace mxgate;
using namespace mxgate::dmarc;
namespace asio = boost::asio;

TEST_CASE("checks: spf through the pool, and busy when full", "[checks]") {
    testing::DnsFixture f;
    f.txt("pass.test", "v=spf1 ip4:192.0.2.0/24 -all");
    Checks checks(f.io.get_executor(), f.zone, CheckPoolOptions{1, 0, std::chrono::seconds(2)});
    REQUIRE(checks.capacity() == 1);

    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<std::optional<int>> first_done;
    std::promise<std::optional<SpfVerdict>> second_done;
    // The first job occupies the only slot until released. (Lambdas that
    // are coroutines live in this scope, longer than their frames.)
    auto blocker = [&]() -> asio::awaitable<void> {
        auto job = [released](const BlockingDns&) {
            released.wait();
            return 7;
        };
        auto op = checks.run(std::move(job));
        std::optional<int> r = co_await std::move(op);
        first_done.set_value(r);
    };
    asio::co_spawn(f.io, blocker(), asio::detached);
    while (checks.in_flight() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    auto busy = [&]() -> asio::awaitable<void> {
        auto op = checks.spf(SpfInput{"192.0.2.1", "helo.test", "a@pass.test", "mx.test"});
        std::optional<SpfVerdict> v = co_await std::move(op);
        second_done.set_value(v);
    };
    asio::co_spawn(f.io, busy(), asio::detached);
    CHECK_FALSE(second_done.get_future().get().has_value());  // pool full: busy at once

    release.set_value();
    auto first = first_done.get_future().get();
    REQUIRE(first.has_value());
    CHECK(*first == 7);

    std::promise<std::optional<SpfVerdict>> third_done;
    auto again = [&]() -> asio::awaitable<void> {
        auto op = checks.spf(SpfInput{"192.0.2.1", "helo.test", "a@pass.test", "mx.test"});
        std::optional<SpfVerdict> v = co_await std::move(op);
        third_done.set_value(v);
    };
    asio::co_spawn(f.io, again(), asio::detached);
    auto third = third_done.get_future().get();
    REQUIRE(third.has_value());
    CHECK(third->result == SpfResult::pass);
    CHECK(checks.in_flight() == 0);
}
