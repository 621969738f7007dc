// relay/server/greylist_prune.hpp — forgetting old greylisting triplets
// (<spool>/state/greylist, written by session_policy.cpp), so the state
// store does not grow forever.
//
// A record's value is "<first seen unix seconds> <0|1 passed>"; its mtime
// is the last time it was written (a passed triplet is rewritten at most
// once a day while it keeps being used, session_policy.cpp).
//   - unconfirmed (never retried after the delay): removed once older than
//     max(2 × delay, kGreylistRetryWindow) — after that the session would
//     start the triplet over anyway, so pruning changes no verdict;
//   - passed: removed when unused for kGreylistPassedLifetime (35 days,
//     like postgrey's --max-age);
//   - unreadable values: removed.
// Blocking (directory walk, unlinks): run on the blocking pool. The daemon
// does it at start and then hourly (relay/cli/serve.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "relay/core/state_store.hpp"

namespace mxgate::server {

inline constexpr int64_t kGreylistRetryWindow = 2 * 24 * 3600;
inline constexpr int64_t kGreylistPassedLifetime = 35 * 24 * 3600;
// A passed triplet in use is rewritten when its record is older than this.
inline constexpr int64_t kGreylistTouchInterval = 24 * 3600;

struct GreylistEntry {
    int64_t first_seen = 0;
    bool passed = false;
};
std::optional<GreylistEntry> parse_greylist_value(std::string_view v);

struct GreylistPruneStats {
    size_t kept = 0;
    size_t removed = 0;
};

GreylistPruneStats prune_greylist(core::StateStore& store, int64_t now, int64_t delay_seconds);

}  // namespace mxgate::server
