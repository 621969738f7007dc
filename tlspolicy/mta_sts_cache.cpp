// tlspolicy/mta_sts_cache.cpp — resolve_mta_sts(): TXT discovery, cache
// and refresh (mta_sts_client.hpp gives the rules).
#include <ctime>

#include "tlspolicy/mta_sts_client.hpp"
#include "relay/core/ascii.hpp"

namespace mxgate::tlspolicy {

namespace asio = boost::asio;
using core::Event;
using core::Field;

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

asio::awaitable<StsLookup> resolve_mta_sts(asio::any_io_executor ex, core::Resolver& resolver, ContextPtr ctx,
                                           core::StateStore& cache, core::EventSink* events, std::string domain,
                                           StsFetchOptions opts) {
    StsLookup out;
    domain = core::ascii::domain_key(std::move(domain));
    const int64_t now = unix_now();
    std::optional<StsCacheEntry> cached;
    if (auto raw = cache.get(domain)) cached = parse_cache_entry(*raw);
    out.cached = cached;
    const bool cache_fresh = cached && cached->expires() > now;

    auto use_cache = [&] {
        if (!cache_fresh) return;
        out.policy = cached->policy;
        out.id = cached->id;
        out.from_cache = true;
    };

    const std::string txt_name = "_mta-sts." + domain;
    auto txt = co_await core::lookup_txt(resolver, txt_name);
    std::optional<StsRecord> rec;
    if (txt.status == core::DnsStatus::ok) {
        rec = select_sts_record(txt.records);
        if (!rec) out.txt_error = "no valid STSv1 record at " + txt_name;
    } else if (txt.status == core::DnsStatus::temp_fail) {
        out.txt_error = "TXT lookup of " + txt_name + " failed: " + txt.error;
    } else {
        out.txt_error = "no TXT record at " + txt_name;
    }
    if (!rec) {
        // §5.1: no record (or DNS failing) does not remove a cached policy.
        use_cache();
        co_return out;
    }
    if (cache_fresh && cached->id == rec->id) {
        use_cache();
        co_return out;
    }

    StsFetch f = co_await fetch_sts_policy(ex, resolver, ctx, domain, opts);
    std::optional<StsPolicy> parsed;
    if (f.ok) {
        std::string err;
        parsed = parse_sts_policy(f.body, err);
        if (!parsed) f.error = "invalid policy from mta-sts." + domain + ": " + err;
    }
    if (!parsed) {
        out.fetch_error = f.error;
        if (events)
            events->emit(Event("mta_sts.failed")
                             .set(Field::domain, domain)
                             .set(Field::id, rec->id)
                             .set(Field::error, f.error)
                             .set(Field::result, cache_fresh ? "cached policy kept" : "no policy"));
        use_cache();
        co_return out;
    }
    StsCacheEntry e;
    e.id = rec->id;
    e.fetched = now;
    e.body = f.body;
    e.policy = *parsed;
    cache.put(domain, serialize_cache_entry(e));
    out.policy = *parsed;
    out.id = rec->id;
    out.fetched = true;
    if (events)
        events->emit(Event("mta_sts.fetched")
                         .set(Field::domain, domain)
                         .set(Field::id, rec->id)
                         .set(Field::mode, sts_mode_name(parsed->mode))
                         .set(Field::policy, std::vector<std::string>(parsed->mx))
                         .set(Field::duration, parsed->max_age));
    co_return out;
}

}  // namespace mxgate::tlspolicy
