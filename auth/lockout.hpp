// auth/lockout.hpp — failed-authentication counting per user and per client
// address (SPEC §5, `auth.lockout`).
//
// A key (user, or client address) that collects `failures` failures within
// `window` is locked for `duration`; while locked every attempt is answered
// 454 4.7.0 without looking at the password (so guessing stops making
// progress). A success does not clear the count: failures only age out of
// the window, so an attacker cannot reset it by interleaving a good login.
// In memory only: a restart forgets lockouts (the cleartext-exposure lock,
// which must outlive restarts, lives in the spool state, see service.hpp).
//
// Thread-safe: one mutex; called from the SASL pool threads. Time is passed
// in, so the unit tests drive it without sleeping.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "conf/config.hpp"

namespace mxgate::auth {

class Lockout {
public:
    using Clock = std::chrono::steady_clock;

    struct Policy {
        int failures = 5;
        Clock::duration window = std::chrono::minutes(15);
        Clock::duration duration = std::chrono::hours(1);
        static Policy from(const conf::AuthConfig& a);
    };

    enum class Scope { none, user, address };

    // Which key (if any) is locked now; the user is checked first.
    Scope locked(std::string_view user, std::string_view address, Clock::time_point now) const;
    bool user_locked(std::string_view user, Clock::time_point now) const;
    bool address_locked(std::string_view address, Clock::time_point now) const;

    // Counts one failure against both keys (an empty user counts only the
    // address). Returns the scope that became locked by this failure, if any
    // (the user when both did), so the caller emits auth.locked once.
    Scope record_failure(std::string_view user, std::string_view address, Clock::time_point now,
                         const Policy& p);

    size_t tracked() const;  // keys held (tests: the table is pruned)

private:
    struct Entry {
        std::deque<Clock::time_point> failures;
        Clock::time_point locked_until{};
    };
    // Returns true when this failure locked the key.
    bool count(std::map<std::string, Entry, std::less<>>& table, std::string_view key, Clock::time_point now,
               const Policy& p);
    void prune(Clock::time_point now, const Policy& p);

    mutable std::mutex mu_;
    std::map<std::string, Entry, std::less<>> users_;
    std::map<std::string, Entry, std::less<>> addresses_;
    unsigned ops_ = 0;
};

}  // namespace mxgate::auth
