// tlspolicy/mta_sts_client.hpp — MTA-STS discovery (RFC 8461 §3): the
// `_mta-sts` TXT lookup, the HTTPS fetch of the policy, and the cache in
// the spool (core::StateStore "mta-sts").
//
// resolve_mta_sts(domain):
//   1. TXT _mta-sts.<domain> (select_sts_record).
//   2. A cached, unexpired policy whose id equals the TXT id is used as is.
//   3. Otherwise (new id, nothing cached, or expired) the policy is fetched
//      from https://mta-sts.<domain>/.well-known/mta-sts.txt: certificate
//      chain verified against tls.ca_file and naming mta-sts.<domain>,
//      status 200 only (no redirects, §3.3), text/plain, at most 64 KiB,
//      one deadline for the whole fetch. A valid policy replaces the cache
//      entry (mta_sts.fetched); a failure emits mta_sts.failed.
//   4. When the TXT lookup or the fetch fails, an unexpired cached policy
//      stays in force (§5.1: an attacker who strips DNS or blocks HTTPS must
//      not remove it). Only a fetched policy, or expiry, replaces it.
// A policy with mode none is still cached (it is how a domain withdraws).
//
// SECURITY: the body is parsed by the pure, fuzzed parse_sts_policy; the
// HTTP response by Beast with a body limit; redirects are failures.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "relay/core/event_sink.hpp"
#include "relay/core/resolver.hpp"
#include "relay/core/state_store.hpp"
#include "tlspolicy/mta_sts.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {

inline constexpr size_t kStsMaxPolicyBytes = 64 * 1024;

struct StsFetchOptions {
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(30);  // whole fetch
    uint16_t port = 443;
};

struct StsFetch {
    bool ok = false;
    std::string body;
    std::string error;   // "connect ...", "certificate ...", "HTTP 301 (redirects are not followed)", ...
};

// GET https://mta-sts.<domain>/.well-known/mta-sts.txt. https_ctx: a client
// context from make_client_context(..., tls.ca_file); the chain verdict and
// the name are checked here.
boost::asio::awaitable<StsFetch> fetch_sts_policy(boost::asio::any_io_executor ex, core::Resolver& resolver,
                                                  ContextPtr https_ctx, std::string domain,
                                                  StsFetchOptions opts = {});

struct StsLookup {
    std::optional<StsPolicy> policy;   // in force (fresh or cached); nullopt = none
    std::string id;
    bool from_cache = false;
    bool fetched = false;              // fetched during this lookup
    std::string txt_error;             // TXT lookup problem, if any
    std::string fetch_error;           // fetch/parse problem, if any
    std::optional<StsCacheEntry> cached;   // what the cache held before the lookup
};

boost::asio::awaitable<StsLookup> resolve_mta_sts(boost::asio::any_io_executor ex, core::Resolver& resolver,
                                                  ContextPtr https_ctx, core::StateStore& cache,
                                                  core::EventSink* events, std::string domain,
                                                  StsFetchOptions opts = {});

int64_t unix_now();

}  // namespace mxgate::tlspolicy
