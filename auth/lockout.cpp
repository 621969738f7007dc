#include "auth/lockout.hpp"

namespace mxgate::auth {

Lockout::Policy Lockout::Policy::from(const conf::AuthConfig& a) {
    Policy p;
    p.failures = a.lockout_failures;
    p.window = a.lockout_window;
    p.duration = a.lockout_duration;
    return p;
}

namespace {

template <class Map>
bool is_locked(const Map& m, std::string_view key, Lockout::Clock::time_point now) {
    const auto it = m.find(key);
    return it != m.end() && it->second.locked_until > now;
}

}  // namespace

bool Lockout::user_locked(std::string_view user, Clock::time_point now) const {
    std::lock_guard lock(mu_);
    return !user.empty() && is_locked(users_, user, now);
}

bool Lockout::address_locked(std::string_view address, Clock::time_point now) const {
    std::lock_guard lock(mu_);
    return !address.empty() && is_locked(addresses_, address, now);
}

Lockout::Scope Lockout::locked(std::string_view user, std::string_view address, Clock::time_point now) const {
    std::lock_guard lock(mu_);
    if (!user.empty() && is_locked(users_, user, now)) return Scope::user;
    if (!address.empty() && is_locked(addresses_, address, now)) return Scope::address;
    return Scope::none;
}

bool Lockout::count(std::map<std::string, Entry, std::less<>>& table, std::string_view key, Clock::time_point now,
                    const Policy& p) {
    auto it = table.find(key);
    if (it == table.end()) it = table.emplace(std::string(key), Entry{}).first;
    Entry& e = it->second;
    if (e.locked_until > now) return false;  // already locked: nothing more to learn
    while (!e.failures.empty() && e.failures.front() + p.window <= now) e.failures.pop_front();
    e.failures.push_back(now);
    if (static_cast<int>(e.failures.size()) < p.failures) return false;
    e.failures.clear();
    e.locked_until = now + p.duration;
    return true;
}

Lockout::Scope Lockout::record_failure(std::string_view user, std::string_view address, Clock::time_point now,
                                       const Policy& p) {
    std::lock_guard lock(mu_);
    if (++ops_ % 256 == 0) prune(now, p);
    const bool u = !user.empty() && count(users_, user, now, p);
    const bool a = !address.empty() && count(addresses_, address, now, p);
    return u ? Scope::user : a ? Scope::address : Scope::none;
}

// Drops keys with no lock and no failure inside the window, so a scan of
// random user names cannot grow the table without bound.
void Lockout::prune(Clock::time_point now, const Policy& p) {
    for (auto* table : {&users_, &addresses_}) {
        for (auto it = table->begin(); it != table->end();) {
            const Entry& e = it->second;
            const bool stale = e.locked_until <= now && (e.failures.empty() || e.failures.back() + p.window <= now);
            it = stale ? table->erase(it) : std::next(it);
        }
    }
}

size_t Lockout::tracked() const {
    std::lock_guard lock(mu_);
    return users_.size() + addresses_.size();
}

}  // namespace mxgate::auth
