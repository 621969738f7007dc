// Unit tests for auth::Lockout (SPEC §5 `auth.lockout`): a table of failure
// sequences and what is locked when.
#include <catch2/catch.hpp>

#include "auth/lockout.hpp"

using mxgate::auth::Lockout;
using namespace std::chrono_literals;

namespace {

Lockout::Policy policy(int failures = 3, std::chrono::seconds window = 60s, std::chrono::seconds duration = 600s) {
    Lockout::Policy p;
    p.failures = failures;
    p.window = window;
    p.duration = duration;
    return p;
}

const Lockout::Clock::time_point T0{std::chrono::hours(1000)};

}  // namespace

TEST_CASE("a user is locked after N failures inside the window", "[auth][lockout]") {
    Lockout l;
    const auto p = policy();
    CHECK(l.record_failure("alice", "192.0.2.1", T0, p) == Lockout::Scope::none);
    CHECK(l.record_failure("alice", "192.0.2.2", T0 + 1s, p) == Lockout::Scope::none);
    CHECK(l.locked("alice", "192.0.2.9", T0 + 2s) == Lockout::Scope::none);
    CHECK(l.record_failure("alice", "192.0.2.3", T0 + 2s, p) == Lockout::Scope::user);
    CHECK(l.locked("alice", "192.0.2.9", T0 + 3s) == Lockout::Scope::user);
    CHECK(l.user_locked("alice", T0 + 3s));
    CHECK_FALSE(l.user_locked("bob", T0 + 3s));
    // still locked just before the end of the duration, free after it
    CHECK(l.user_locked("alice", T0 + 2s + 599s));
    CHECK_FALSE(l.user_locked("alice", T0 + 2s + 600s));
}

TEST_CASE("failures older than the window do not count", "[auth][lockout]") {
    Lockout l;
    const auto p = policy(3, 60s);
    l.record_failure("alice", "", T0, p);
    l.record_failure("alice", "", T0 + 30s, p);
    // the first one has aged out at T0+60s: two in the window, not three
    CHECK(l.record_failure("alice", "", T0 + 60s, p) == Lockout::Scope::none);
    CHECK(l.record_failure("alice", "", T0 + 61s, p) == Lockout::Scope::user);
}

TEST_CASE("a client address is locked across user names", "[auth][lockout]") {
    Lockout l;
    const auto p = policy();
    CHECK(l.record_failure("u1", "198.51.100.7", T0, p) == Lockout::Scope::none);
    CHECK(l.record_failure("u2", "198.51.100.7", T0, p) == Lockout::Scope::none);
    CHECK(l.record_failure("u3", "198.51.100.7", T0, p) == Lockout::Scope::address);
    CHECK(l.address_locked("198.51.100.7", T0 + 1s));
    CHECK_FALSE(l.address_locked("198.51.100.8", T0 + 1s));
    CHECK(l.locked("alice", "198.51.100.7", T0 + 1s) == Lockout::Scope::address);
    CHECK_FALSE(l.user_locked("u1", T0 + 1s));
}

TEST_CASE("an unnamed failure counts only against the address", "[auth][lockout]") {
    Lockout l;
    const auto p = policy(1);
    CHECK(l.record_failure("", "203.0.113.1", T0, p) == Lockout::Scope::address);
    CHECK_FALSE(l.user_locked("", T0));
}

TEST_CASE("both keys locking at once reports the user", "[auth][lockout]") {
    Lockout l;
    const auto p = policy(1);
    CHECK(l.record_failure("alice", "203.0.113.1", T0, p) == Lockout::Scope::user);
    CHECK(l.address_locked("203.0.113.1", T0));
}

TEST_CASE("failures while locked do not extend the lock", "[auth][lockout]") {
    Lockout l;
    const auto p = policy(2, 60s, 10s);
    l.record_failure("alice", "", T0, p);
    CHECK(l.record_failure("alice", "", T0, p) == Lockout::Scope::user);
    CHECK(l.record_failure("alice", "", T0 + 5s, p) == Lockout::Scope::none);
    CHECK_FALSE(l.user_locked("alice", T0 + 10s));
    // after expiry the count starts from zero
    CHECK(l.record_failure("alice", "", T0 + 11s, p) == Lockout::Scope::none);
    CHECK(l.record_failure("alice", "", T0 + 12s, p) == Lockout::Scope::user);
}

TEST_CASE("stale keys are pruned so random names cannot grow the table", "[auth][lockout]") {
    Lockout l;
    const auto p = policy(5, 60s, 60s);
    for (int i = 0; i < 1000; ++i) l.record_failure("user" + std::to_string(i), "", T0, p);
    CHECK(l.tracked() == 1000);
    for (int i = 0; i < 300; ++i) l.record_failure("later" + std::to_string(i), "", T0 + 120s, p);
    CHECK(l.tracked() < 500);
}
