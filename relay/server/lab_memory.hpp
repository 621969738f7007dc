// relay/server/lab_memory.hpp — what lab listeners remember across
// sessions: which client address last saw TLS fail or be refused, so a
// plaintext retry from it is reported as such ("came back in plaintext
// after a failed handshake"). In memory only, 24 hours, bounded: a lab is a
// test bench, not a record (the events are the record).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace mxgate::server {

class LabMemory {
public:
    struct Entry {
        std::string what;   // "handshake failed", "STARTTLS refused (454)", ...
        std::string error;  // TLS error text, if any
        std::chrono::steady_clock::time_point when;
    };
    void remember(const std::string& client, std::string what, std::string error) {
        std::lock_guard lock(mu_);
        if (map_.size() >= kMax) map_.clear();  // a flood: forget rather than grow
        map_[client] = Entry{std::move(what), std::move(error), std::chrono::steady_clock::now()};
    }
    std::optional<Entry> recent(const std::string& client) const {
        std::lock_guard lock(mu_);
        auto it = map_.find(client);
        if (it == map_.end() || std::chrono::steady_clock::now() - it->second.when > std::chrono::hours(24))
            return std::nullopt;
        return it->second;
    }

private:
    static constexpr size_t kMax = 10000;
    mutable std::mutex mu_;
    std::map<std::string, Entry> map_;
};

}  // namespace mxgate::server
