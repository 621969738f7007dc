// relay/core/answer_cache.cpp — see answer_cache.hpp.
#include "relay/core/answer_cache.hpp"

#include <algorithm>

namespace mxgate::core {

AnswerCache::Key AnswerCache::key(const std::string& name, uint16_t type) {
    std::string k = name;
    for (char& c : k)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!k.empty() && k.back() == '.') k.pop_back();
    return {std::move(k), type};
}

std::optional<DnsReply> AnswerCache::get(const std::string& name, uint16_t type, Clock::time_point now) const {
    const Key k = key(name, type);
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = entries_.find(k);
    if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
    DnsReply out = it->second.reply;
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(it->second.expires - now).count();
    out.ttl = static_cast<uint32_t>(std::max<int64_t>(1, left));
    return out;
}

void AnswerCache::put(const std::string& name, uint16_t type, const DnsReply& reply, Clock::time_point now) {
    if (reply.ttl == 0 || max_entries_ == 0) return;
    if (reply.status != DnsStatus::ok && reply.status != DnsStatus::nxdomain && reply.status != DnsStatus::nodata)
        return;
    const auto ttl = std::min<std::chrono::seconds>(std::chrono::seconds(reply.ttl), max_ttl_);
    Key k = key(name, type);
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.size() >= max_entries_ && entries_.find(k) == entries_.end()) {
        for (auto it = entries_.begin(); it != entries_.end();)
            it = it->second.expires <= now ? entries_.erase(it) : std::next(it);
        if (entries_.size() >= max_entries_) entries_.clear();
    }
    entries_[std::move(k)] = Entry{reply, now + ttl};
}

size_t AnswerCache::size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
}

}  // namespace mxgate::core
