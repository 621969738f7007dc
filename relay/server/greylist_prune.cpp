// relay/server/greylist_prune.cpp — see greylist_prune.hpp.
#include "relay/server/greylist_prune.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace mxgate::server {

std::optional<GreylistEntry> parse_greylist_value(std::string_view v) {
    const size_t sp = v.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp > 18) return std::nullopt;
    GreylistEntry e;
    for (const char c : v.substr(0, sp)) {
        if (c < '0' || c > '9') return std::nullopt;
        e.first_seen = e.first_seen * 10 + (c - '0');
    }
    const std::string_view flag = v.substr(sp + 1);
    if (flag != "0" && flag != "1") return std::nullopt;
    e.passed = flag == "1";
    return e;
}

GreylistPruneStats prune_greylist(core::StateStore& store, int64_t now, int64_t delay_seconds) {
    const int64_t unconfirmed_max = std::max(2 * delay_seconds, kGreylistRetryWindow);
    std::vector<std::string> stale;
    GreylistPruneStats stats;
    store.for_each([&](const std::string& key, const std::string& value) {
        const auto e = parse_greylist_value(value);
        bool drop = !e;
        if (e && !e->passed) drop = now - e->first_seen > unconfirmed_max;
        if (e && e->passed) {
            const int64_t last = store.mtime(key).value_or(e->first_seen);
            drop = now - last > kGreylistPassedLifetime;
        }
        if (drop)
            stale.push_back(key);
        else
            ++stats.kept;
    });
    for (const std::string& k : stale) store.erase(k);
    stats.removed = stale.size();
    return stats;
}

}  // namespace mxgate::server
