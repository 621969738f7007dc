// relay/core/answer_cache.hpp — the resolver's own table of recent answers,
// reused within their TTL.
//
// Why (docs/performance-checks.md): libunbound caches too, but reaching its
// cache costs a round trip to its worker thread over a pipe, and with
// dns.dnssec: trust-ad every answer also cost a fresh UDP query to the
// upstream for the AD bit (dns_ad_probe). The inbound checks ask the same
// few names (SPF, DKIM key, _dmarc) for every message of a sender.
//
// What is kept: ok, NXDOMAIN and NODATA answers with a TTL > 0, as
// received (RDATA, the authenticated flag decided when the answer came,
// canonical name), for min(TTL, max_ttl); never temp_fail (SERVFAIL,
// timeouts, bogus DNSSEC are asked again every time). A reused answer
// carries the TTL it has left. Keys are lower-case names without the final
// dot. Thread-safe. At most `max_entries`; when full, expired entries go,
// and if none had expired, everything (a flood of one-off names cannot
// grow it).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "relay/core/resolver.hpp"

namespace mxgate::core {

class AnswerCache {
public:
    using Clock = std::chrono::steady_clock;

    explicit AnswerCache(size_t max_entries = 10000, std::chrono::seconds max_ttl = std::chrono::hours(1))
        : max_entries_(max_entries), max_ttl_(max_ttl) {}

    std::optional<DnsReply> get(const std::string& name, uint16_t type, Clock::time_point now = Clock::now()) const;
    // Keeps `reply` if it may be reused (see above); else does nothing.
    void put(const std::string& name, uint16_t type, const DnsReply& reply, Clock::time_point now = Clock::now());

    size_t size() const;

private:
    struct Entry {
        DnsReply reply;
        Clock::time_point expires;
    };
    using Key = std::pair<std::string, uint16_t>;
    static Key key(const std::string& name, uint16_t type);

    size_t max_entries_;
    std::chrono::seconds max_ttl_;
    mutable std::mutex mu_;
    std::map<Key, Entry> entries_;
};

}  // namespace mxgate::core
