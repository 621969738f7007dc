// tests/unit/server/connection_limits_test.cpp — total and per-IP limits,
// RAII slots and their move semantics (SPEC §4).
#include <catch2/catch.hpp>

#include <utility>
#include <vector>

#include "relay/server/connection_limits.hpp"

using mxgate::server::ConnectionLimits;
using Refusal = ConnectionLimits::Refusal;

TEST_CASE("ConnectionLimits: per-IP limit", "[limits]") {
    ConnectionLimits lim;
    Refusal why = Refusal::total;
    std::vector<ConnectionLimits::Slot> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(lim.acquire("192.0.2.1", 100, 3, why));
        CHECK(held.back());
        CHECK(why == Refusal::none);
    }
    CHECK(lim.for_ip("192.0.2.1") == 3);
    auto over = lim.acquire("192.0.2.1", 100, 3, why);
    CHECK_FALSE(over);
    CHECK(why == Refusal::per_ip);
    CHECK(lim.total() == 3);
    // Another address is not affected.
    auto other = lim.acquire("192.0.2.2", 100, 3, why);
    CHECK(other);
    CHECK(why == Refusal::none);
    CHECK(lim.total() == 4);
    // Releasing one makes room again.
    held.pop_back();
    CHECK(lim.for_ip("192.0.2.1") == 2);
    auto again = lim.acquire("192.0.2.1", 100, 3, why);
    CHECK(again);
}

TEST_CASE("ConnectionLimits: total limit across addresses", "[limits]") {
    ConnectionLimits lim;
    Refusal why{};
    auto a = lim.acquire("192.0.2.1", 2, 10, why);
    auto b = lim.acquire("192.0.2.2", 2, 10, why);
    REQUIRE(a);
    REQUIRE(b);
    auto c = lim.acquire("192.0.2.3", 2, 10, why);
    CHECK_FALSE(c);
    CHECK(why == Refusal::total);
    CHECK(lim.total() == 2);
    CHECK(lim.for_ip("192.0.2.3") == 0);  // a refusal leaves no trace
    a.release();
    CHECK(lim.total() == 1);
    auto d = lim.acquire("192.0.2.3", 2, 10, why);
    CHECK(d);
    CHECK(why == Refusal::none);
}

TEST_CASE("ConnectionLimits: zero limits refuse everything", "[limits]") {
    ConnectionLimits lim;
    Refusal why{};
    CHECK_FALSE(lim.acquire("192.0.2.1", 0, 5, why));
    CHECK(why == Refusal::total);
    CHECK_FALSE(lim.acquire("192.0.2.1", 5, 0, why));
    CHECK(why == Refusal::per_ip);
    CHECK(lim.total() == 0);
    CHECK(lim.for_ip("192.0.2.1") == 0);
}

TEST_CASE("ConnectionLimits: slots release on destruction, once", "[limits]") {
    ConnectionLimits lim;
    Refusal why{};
    {
        auto s = lim.acquire("192.0.2.1", 10, 10, why);
        CHECK(lim.total() == 1);
        s.release();
        CHECK(lim.total() == 0);
        CHECK_FALSE(s);
        s.release();  // idempotent
        CHECK(lim.total() == 0);
    }
    CHECK(lim.total() == 0);
    {
        auto s = lim.acquire("192.0.2.1", 10, 10, why);
        auto t = lim.acquire("192.0.2.1", 10, 10, why);
        CHECK(lim.for_ip("192.0.2.1") == 2);
    }
    CHECK(lim.total() == 0);
    CHECK(lim.for_ip("192.0.2.1") == 0);
}

TEST_CASE("ConnectionLimits: move construction and assignment", "[limits]") {
    ConnectionLimits lim;
    Refusal why{};
    auto a = lim.acquire("192.0.2.1", 10, 10, why);
    {
        ConnectionLimits::Slot b(std::move(a));
        CHECK(b);
        CHECK_FALSE(a);  // NOLINT: moved-from is empty by contract
        CHECK(lim.total() == 1);
    }
    CHECK(lim.total() == 0);  // b released it; a's destructor must not again
    a = ConnectionLimits::Slot();
    CHECK(lim.total() == 0);

    auto x = lim.acquire("192.0.2.1", 10, 10, why);
    auto y = lim.acquire("192.0.2.2", 10, 10, why);
    CHECK(lim.total() == 2);
    x = std::move(y);  // x's old slot (192.0.2.1) is released
    CHECK(lim.total() == 1);
    CHECK(lim.for_ip("192.0.2.1") == 0);
    CHECK(lim.for_ip("192.0.2.2") == 1);
    CHECK_FALSE(y);  // NOLINT
    auto& self = x;
    x = std::move(self);  // self-move keeps the slot
    CHECK(x);
    CHECK(lim.total() == 1);
    x.release();
    CHECK(lim.total() == 0);
    CHECK(lim.for_ip("192.0.2.2") == 0);
}
