// tlspolicy/sender_posture.cpp — does a sending domain publish that it
// wants TLS for its own mail? If it publishes an MTA-STS record (RFC 8461)
// or DANE TLSA records for its MX hosts (RFC 7672), it runs TLS-capable
// servers, so plaintext mail claiming to come from it is suspect (SPEC §7).
//
// A light check on purpose: the _mta-sts TXT record (v=STSv1 and an id) and
// TLSA records for the first two MX hosts, which must be DNSSEC-
// authenticated (DANE without DNSSEC means nothing). The HTTPS policy is
// not fetched, so "enforce" versus "testing" is not known here.
// XXX A published policy in testing mode counts as a signal too; the
// event's reason says "publishes MTA-STS" rather than "enforce".
// Answers are cached per domain (ttl, default 1 h; a temporary DNS failure
// 5 minutes) so a busy sender costs one lookup an hour.
//
// SECURITY: DNS answers only ever add suspicion (an event); nothing here
// can make mxgate accept what it would otherwise refuse.
#include <algorithm>
#include <chrono>

#include "tlspolicy/detail.hpp"
#include "tlspolicy/inbound.hpp"

namespace mxgate::tlspolicy {
namespace {

constexpr int64_t kTempFailTtl = 300;
constexpr size_t kMaxCached = 10000;
constexpr size_t kMaxMxChecked = 2;

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}


}  // namespace

std::optional<Posture> SenderPosture::cached(const std::string& domain, int64_t now) const {
    std::lock_guard lock(mu_);
    const auto it = cache_.find(domain);
    if (it == cache_.end() || it->second.first < now) return std::nullopt;
    return it->second.second;
}

boost::asio::awaitable<Posture> SenderPosture::check(core::Resolver& r, std::string domain) {
    domain = detail::ascii_lower(domain);
    const int64_t now = unix_now();
    if (auto hit = cached(domain, now)) co_return *hit;

    Posture p;
    bool temp_fail = false;
    auto txt_op = core::lookup_txt(r, "_mta-sts." + domain);  // named: GCC 12 co_await temporaries
    const auto txt = co_await std::move(txt_op);
    if (txt.status == core::DnsStatus::temp_fail) temp_fail = true;
    for (const auto& t : txt.records) {
        if (auto id = mta_sts_record_id(t)) {
            p.mta_sts = true;
            p.sts_id = *id;
            break;
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
