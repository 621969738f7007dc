// tlspolicy/sender_posture.cpp — does a sending domain publish that it
// wants TLS for its own mail? If it publishes an MTA-STS record (RFC 8461)
// or DANE TLSA records for its MX hosts (RFC 7672), it runs TLS-capable
// servers, so plaintext mail claiming to come from it is suspect (SPEC §7).
//
// MTA-STS counts only in mode enforce: a domain in testing (or none) mode
// says it does not yet insist on TLS, so its plaintext mail is no signal.
// The mode is in the HTTPS policy, not the TXT record, so the policy comes
// from resolve_mta_sts() — the daemon's MTA-STS cache in the spool, fetched
// when the cache has no fresh policy for the TXT id (RFC 8461 §3.3, §5.1).
// DANE: TLSA records for the first two MX hosts, which must be DNSSEC-
// authenticated (DANE without DNSSEC means nothing).
// Answers are cached per domain (ttl, default 1 h; a temporary DNS failure
// or a failed policy fetch 5 minutes) so a busy sender costs one lookup an
// hour.
//
// SECURITY: DNS answers only ever add suspicion (an event); nothing here
// can make mxgate accept what it would otherwise refuse.
#include <algorithm>
#include <boost/asio/this_coro.hpp>

#include <chrono>

#include "tlspolicy/detail.hpp"
#include "tlspolicy/inbound.hpp"

namespace mxgate::tlspolicy {
namespace {

constexpr int64_t kTempFailTtl = 300;
constexpr size_t kMaxCached = 10000;
constexpr size_t kMaxMxChecked = 2;


}  // namespace

std::optional<Posture> SenderPosture::cached(const std::string& domain, int64_t now) const {
    std::lock_guard lock(mu_);
    const auto it = cache_.find(domain);
    if (it == cache_.end() || it->second.first < now) return std::nullopt;
    return it->second.second;
}

boost::asio::awaitable<Posture> SenderPosture::check(core::Resolver& r, std::string domain, const StsSource* sts) {
    domain = detail::ascii_lower(domain);
    const int64_t now = unix_now();
    if (auto hit = cached(domain, now)) co_return *hit;

    Posture p;
    bool temp_fail = false;
    if (sts && sts->cache && sts->https_ctx) {
        const auto ex = co_await boost::asio::this_coro::executor;
        auto sts_op = resolve_mta_sts(ex, r, sts->https_ctx, *sts->cache, sts->events, domain,
                                      sts->opts);  // named: GCC 12 co_await temporaries
        const StsLookup l = co_await std::move(sts_op);
        if (l.policy) {
            p.sts_id = l.id;
            p.sts_mode = sts_mode_name(l.policy->mode);
            p.mta_sts = l.policy->mode == StsMode::enforce;
        } else {
            p.sts_note = !l.fetch_error.empty() ? l.fetch_error : l.txt_error;
            // A record without a policy we could get: try again soon.
            if (!l.fetch_error.empty() || l.txt_error.find("failed") != std::string::npos) temp_fail = true;
        }
    }
    auto mx_op = core::lookup_mx(r, domain);
    const auto mx = co_await std::move(mx_op);
    if (mx.status == core::DnsStatus::temp_fail) temp_fail = true;
    std::vector<core::MxRecord> hosts = mx.records;
    std::sort(hosts.begin(), hosts.end(), [](const auto& a, const auto& b) { return a.preference < b.preference; });
    size_t checked = 0;
    for (const auto& h : hosts) {
        if (h.host.empty() || checked++ >= kMaxMxChecked) break;
        auto tlsa_op = core::lookup_tlsa(r, "_25._tcp." + h.host);
        const auto tlsa = co_await std::move(tlsa_op);
        if (tlsa.status == core::DnsStatus::ok && tlsa.authenticated && !tlsa.records.empty()) {
            p.dane = true;
            p.dane_mx = h.host;
            break;
        }
    }
    {
        std::lock_guard lock(mu_);
        if (cache_.size() >= kMaxCached) cache_.clear();  // crude bound; refills on demand
        const bool nothing = !p.mta_sts && !p.dane;
        cache_[domain] = {now + (temp_fail && nothing ? kTempFailTtl : ttl_.count()), p};
    }
    co_return p;
}

}  // namespace mxgate::tlspolicy
