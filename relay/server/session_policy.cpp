// The mx listener's client policies (SPEC §4, §6): DNSBL at connect and
// greylisting at RCPT. Small hooks in session.cpp call these.
//
// DNSBL: every policy.dnsbl zone is asked (through the Resolver, so
// dns.resolver governs it) before the greeting; the first listing answers
// `554 5.7.1 ... blocked using ZONE` and the session ends. A list that
// cannot be asked (SERVFAIL, timeout) or answers with an error code is
// not a listing: it is logged as policy.dnsbl result=error and the client
// goes on (a broken list must not stop all mail).
//
// Greylisting (policy.greylisting, off by default): the first delivery
// attempt of a triplet (client /24 or /64, sender, recipient) gets
// `451 4.7.1`; a retry after policy.greylisting.delay is accepted, and so is
// every later message of that triplet. The first-seen times live in the
// spool's state store (<spool>/state/greylist), so a restart forgets
// nothing. A triplet that never came back within two days starts over.
// Old triplets are pruned hourly by the daemon (greylist_prune.hpp).
#include <boost/asio/use_awaitable.hpp>
#include <ctime>

#include "relay/core/offload.hpp"
#include "relay/core/resolver.hpp"
#include "relay/core/state_store.hpp"
#include "relay/server/greylist_prune.hpp"
#include "relay/server/session_impl.hpp"
#include "relay/smtp/connect_policy.hpp"
#include "relay/smtp/recipient_policy.hpp"
#include "relay/smtp/replies.hpp"

namespace mxgate::server {

namespace asio = boost::asio;
namespace replies = smtp::replies;
using core::Field;

namespace {

enum class GreyResult { deferred, passed, store_error };

// On the blocking pool: one read and at most one small write.
GreyResult greylist_step(const std::string& spool_dir, const std::string& key, int64_t delay) {
    try {
        core::StateStore store(spool_dir, "greylist");
        const int64_t now = static_cast<int64_t>(std::time(nullptr));
        // Value: "<first seen unix seconds> <1 once passed>".
        const auto v = store.get(key);
        const auto entry = v ? parse_greylist_value(*v) : std::nullopt;
        if (entry) {
            const int64_t first = entry->first_seen;
            if (entry->passed) {
                // Keep a triplet in use younger than the pruning lifetime
                // (one rewrite a day at most).
                if (now - store.mtime(key).value_or(now) > kGreylistTouchInterval) store.put(key, *v);
                return GreyResult::passed;
            }
            if (now - first >= delay) {
                store.put(key, std::to_string(first) + " 1");
                return GreyResult::passed;
            }
            if (now - first <= kGreylistRetryWindow) return GreyResult::deferred;
        }
        if (!store.put(key, std::to_string(now) + " 0")) return GreyResult::store_error;
        return GreyResult::deferred;
    } catch (const std::exception&) {
        return GreyResult::store_error;
    }
}

}  // namespace

asio::awaitable<bool> Session::connect_policy() {
    if (listener_.role != conf::ListenerRole::mx) co_return true;
    const std::string ip = stream_.remote_ip();
    for (const std::string& zone : cfg_.policy.dnsbl) {
        const auto name = smtp::dnsbl_query_name(ip, zone);
        if (!name) continue;
        auto op = core::lookup_a(*rt_.resolver, *name);  // named: GCC 12 co_await temporaries
        const auto r = co_await std::move(op);
        if (r.status == core::DnsStatus::temp_fail) {
            rt_.events->emit(event("policy.dnsbl").set(Field::policy, zone).set(Field::result, "error").set(Field::error, r.error));
            continue;
        }
        bool listed = false;
        std::string answer;
        for (const std::string& a : r.records) {
            const auto c = smtp::classify_dnsbl_answer(a);
            if (c == smtp::DnsblAnswer::listed) {
                listed = true;
                answer = a;
            } else if (c == smtp::DnsblAnswer::list_error) {
                rt_.events->emit(event("policy.dnsbl")
                                     .set(Field::policy, zone)
                                     .set(Field::result, "error")
                                     .set(Field::error, "the list answered " + a));
            }
        }
        if (!listed) continue;
        const core::Reply rep = replies::dnsbl_listed(zone);
        rt_.events->emit(event("policy.dnsbl").set(Field::policy, zone).set(Field::result, "listed").set(Field::reply, answer));
        rt_.events->emit(event("policy.reject")
                             .set(Field::code, std::to_string(rep.code))
                             .set(Field::policy, zone)
                             .set(Field::reason, "client listed in DNSBL " + zone));
        reply(rep);
        co_await flush();
        co_return false;
    }
    co_return true;
}

asio::awaitable<void> Session::on_rcpt_policy(const smtp::Command& c) {
    const bool applies = cfg_.policy.greylisting && listener_.role == conf::ListenerRole::mx && tx_.active &&
                         static_cast<int>(tx_.rcpts.size()) < cfg_.limits.recipients;
    if (applies) {
        const auto& a = std::get<smtp::PathArgs>(c.args);
        // Only a recipient that would be accepted is greylisted: an unknown
        // one gets its 550 at once.
        const auto d = smtp::check_recipient(cfg_, a.path);
        const auto key = smtp::greylist_key(stream_.remote_ip(), tx_.sender, a.path.address());
        if (d.accepted() && key) {
            const int64_t delay = cfg_.policy.greylisting_delay.count();
            auto job = [dir = cfg_.spool, k = *key, delay]() { return greylist_step(dir, k, delay); };
            auto op = core::offload(rt_.blocking, std::move(job));
            const GreyResult g = co_await std::move(op);
            if (g == GreyResult::store_error) {
                // Cannot remember the triplet: defer rather than let the
                // policy silently lapse.
                reply(replies::local_error());
                co_return;
            }
            if (g == GreyResult::deferred) {
                const core::Reply rep = replies::greylisted();
                rt_.events->emit(event("policy.greylist")
                                     .set(Field::sender, tx_.sender)
                                     .set(Field::recipient, a.path.address())
                                     .set(Field::result, "deferred"));
                rt_.events->emit(event("policy.reject")
                                     .set(Field::helo, helo_)
                                     .set(Field::sender, tx_.sender)
                                     .set(Field::recipient, a.path.address())
                                     .set(Field::code, std::to_string(rep.code))
                                     .set(Field::reason, "greylisted"));
                reply(rep);
                co_return;
            }
            rt_.events->emit(event("policy.greylist")
                                 .set(Field::sender, tx_.sender)
                                 .set(Field::recipient, a.path.address())
                                 .set(Field::result, "passed"));
        }
    }
    on_rcpt(c);
}

}  // namespace mxgate::server
