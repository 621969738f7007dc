#include "relay/server/connection_limits.hpp"

namespace mxgate::server {

ConnectionLimits::Slot& ConnectionLimits::Slot::operator=(Slot&& o) noexcept {
    if (this != &o) {
        release();
        owner_ = o.owner_;
        ip_ = std::move(o.ip_);
        o.owner_ = nullptr;
    }
    return *this;
}

void ConnectionLimits::Slot::release() {
    if (owner_) owner_->release(ip_);
    owner_ = nullptr;
}

ConnectionLimits::Slot ConnectionLimits::acquire(const std::string& ip, int max_total,
                                                 int max_per_ip, Refusal& why) {
    std::lock_guard lock(mu_);
    if (total_ >= max_total) {
        why = Refusal::total;
        return {};
    }
    int& n = per_ip_[ip];
    if (n >= max_per_ip) {
        if (n == 0) per_ip_.erase(ip);
        why = Refusal::per_ip;
        return {};
    }
    ++n;
    ++total_;
    why = Refusal::none;
    return Slot(this, ip);
}

void ConnectionLimits::release(const std::string& ip) {
    std::lock_guard lock(mu_);
    --total_;
    auto it = per_ip_.find(ip);
    if (it != per_ip_.end() && --it->second <= 0) per_ip_.erase(it);
}

int ConnectionLimits::total() const {
    std::lock_guard lock(mu_);
    return total_;
}

int ConnectionLimits::for_ip(const std::string& ip) const {
    std::lock_guard lock(mu_);
    auto it = per_ip_.find(ip);
    return it == per_ip_.end() ? 0 : it->second;
}

}  // namespace mxgate::server
