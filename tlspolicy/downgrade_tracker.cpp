// tlspolicy/downgrade_tracker.cpp — SPEC §7 inbound downgrade detection:
// every failed or aborted inbound handshake is remembered for 24 h; a later
// plaintext delivery from the "same client" is a suspected downgrade (an
// attacker stripping STARTTLS, or a sender silently retrying in plaintext).
//
// "Same client" is the same IP address, or the same HELO name from the same
// /24 (IPv4) or /64 (IPv6): senders with several outbound addresses retry
// from a neighbour. Records live in memory for lookups and in the spool's
// StateStore ("tls_failures", one small text record per client+HELO) so a
// restart forgets nothing. record() is memory only; persist() writes the
// record durably and is run by the session on the blocking pool, before the
// tls.handshake_failed event is logged (an event means the record is on disk).
//
// SECURITY: a hostile client can fail handshakes from many addresses. The
// index is bounded (max_entries; the oldest go first) and every record
// expires after the window. A record only ever raises an event; it never
// changes how mail is accepted.
#include <algorithm>

#include "tlspolicy/detail.hpp"
#include "tlspolicy/inbound.hpp"

namespace mxgate::tlspolicy {
namespace {

std::string record_key(const std::string& ip, const std::string& helo) { return ip + "|" + detail::ascii_lower(helo); }

}  // namespace

DowngradeTracker::DowngradeTracker(std::shared_ptr<core::StateStore> store, std::chrono::seconds window,
                                   size_t max_entries)
    : store_(std::move(store)), window_(window), max_entries_(max_entries) {}

size_t DowngradeTracker::load(int64_t now) {
    if (!store_) return 0;
    std::vector<std::string> stale;
    std::lock_guard lock(mu_);
    store_->for_each([&](const std::string& key, const std::string& value) {
        const auto f = decode(value);
        if (!f || f->at + window_.count() < now) {
            stale.push_back(key);
            return;
        }
        by_key_[record_key(f->client, f->helo)] = *f;
    });
    // Start-up, before any listener runs: erasing here blocks nobody.
    std::vector<std::string> erased;
    prune_locked(now, &erased);
    for (const auto& k : stale) store_->erase(k);
    for (const auto& k : erased) store_->erase(k);
    return by_key_.size();
}

void DowngradeTracker::prune_locked(int64_t now, std::vector<std::string>* erased) {
    for (auto it = by_key_.begin(); it != by_key_.end();) {
        if (it->second.at + window_.count() < now) {
            erased->push_back(it->first);
            it = by_key_.erase(it);
        } else {
            ++it;
        }
    }
    while (by_key_.size() > max_entries_) {
        auto oldest = std::min_element(by_key_.begin(), by_key_.end(),
                                       [](const auto& a, const auto& b) { return a.second.at < b.second.at; });
        erased->push_back(oldest->first);
        by_key_.erase(oldest);
    }
}

TrackerWrites DowngradeTracker::record(const HandshakeFailure& f) {
    TrackerWrites w;
    if (client_network(f.client).empty()) return w;
    const std::string key = record_key(f.client, f.helo);
    std::lock_guard lock(mu_);
    by_key_[key] = f;
    if (by_key_.size() > max_entries_) prune_locked(f.at, &w.erased);
    if (by_key_.count(key)) {  // (an already expired failure was pruned at once)
        w.key = key;
        w.value = encode(f);
    }
    if (!store_) w = TrackerWrites{};
    return w;
}

void DowngradeTracker::persist(const TrackerWrites& w) const {
    if (!store_) return;
    // A record is evidence an administrator may act on: it must survive a
    // crash or power cut right after the event that announced it.
    if (!w.key.empty()) store_->put(w.key, w.value, /*durable=*/true);
    for (const auto& k : w.erased)
        if (k != w.key) store_->erase(k);
}

std::optional<HandshakeFailure> DowngradeTracker::match(const std::string& ip, const std::string& helo,
                                                        int64_t now) const {
    std::lock_guard lock(mu_);
    std::optional<HandshakeFailure> best;
    for (const auto& [key, f] : by_key_) {
        if (f.at + window_.count() < now || f.at > now) continue;
        if (!same_client(f.client, f.helo, ip, helo)) continue;
        if (!best || f.at > best->at) best = f;
    }
    return best;
}

size_t DowngradeTracker::size() const {
    std::lock_guard lock(mu_);
    return by_key_.size();
}

}  // namespace mxgate::tlspolicy
