// relay/server/connection_limits.hpp — counts open connections in total and
// per client address, for limits.connections / limits.connections_per_ip
// (SPEC §4: over the limit → 421 4.7.0 and close).
//
// Shared by every listener and session: one mutex, a few methods (STYLE §2).
// A Slot is RAII: the count drops when the session's frame is destroyed.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

namespace mxgate::server {

class ConnectionLimits {
public:
    class Slot {
    public:
        Slot() = default;
        Slot(ConnectionLimits* owner, std::string ip) : owner_(owner), ip_(std::move(ip)) {}
        Slot(Slot&& o) noexcept : owner_(o.owner_), ip_(std::move(o.ip_)) { o.owner_ = nullptr; }
        Slot& operator=(Slot&& o) noexcept;
        ~Slot() { release(); }
        explicit operator bool() const { return owner_ != nullptr; }
        void release();
    private:
        ConnectionLimits* owner_ = nullptr;
        std::string ip_;
    };

    enum class Refusal { none, total, per_ip };

    // Takes a slot, or says which limit refused it.
    Slot acquire(const std::string& ip, int max_total, int max_per_ip, Refusal& why);
    int total() const;
    int for_ip(const std::string& ip) const;

private:
    void release(const std::string& ip);
    mutable std::mutex mu_;
    int total_ = 0;
    std::unordered_map<std::string, int> per_ip_;
};

}  // namespace mxgate::server
