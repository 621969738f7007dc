// The SMTP server session: inbound TLS observability (SPEC §7, issue 5).
//
//   handshake_failed    tls.handshake_failed with what the client offered;
//                       the failure is remembered (DowngradeTracker)
//   handshake_done      tls.handshake; under tls.inbound.dry_run also
//                       tls.would_refuse when the stricter profile would not
//                       have accepted the negotiated version or cipher
//   mail_tls_gate       require_tls: plaintext MAIL from a listed sender
//                       domain or client network gets 530 5.7.0; under a dry
//                       run, plaintext MAIL from a downgrade candidate logs
//                       tls.would_refuse
//   plaintext_accepted  after the 250 of a plaintext message:
//                       tls.downgrade_suspected when the same client failed a
//                       handshake within 24 h, or when the sender's domain
//                       has an MTA-STS policy in mode enforce or DANE TLSA
//                       records (checked detached from the session when not
//                       cached: it may fetch the HTTPS policy)
// docs/downgrade-detection.md describes the semantics.
#include <chrono>
#include <cstdio>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "relay/core/offload.hpp"
#include "relay/server/session_impl.hpp"
#include "relay/smtp/replies.hpp"
#include "tlspolicy/tlsrpt_aggregate.hpp"

namespace mxgate::server {

namespace asio = boost::asio;
namespace replies = smtp::replies;
using core::Field;

namespace {

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

tlspolicy::StsSource sts_source(Runtime& rt, const Snapshot& snap) {
    tlspolicy::StsSource src;
    src.https_ctx = snap.client_tls;
    src.cache = rt.mta_sts_cache;
    src.events = rt.events.get();
    src.opts.timeout = std::chrono::seconds(10);  // a signal, not a delivery: do not wait long
    return src;
}

// tls.downgrade_suspected for a plaintext message whose sender domain
// publishes MTA-STS enforce or DANE; nothing otherwise.
void emit_posture(Runtime& rt, core::Event ev, const std::string& domain, const tlspolicy::Posture& p) {
    if (!p.mta_sts && !p.dane) return;
    ev.set(Field::source, p.mta_sts ? "mta-sts" : "dane")
        .set(Field::error, "")
        .set(Field::reason, p.mta_sts ? "plaintext mail from " + domain +
                                            ", whose MTA-STS policy is in mode enforce (id " + p.sts_id + ")"
                                      : "plaintext mail from " + domain + ", which publishes DANE TLSA for " +
                                            p.dane_mx);
    rt.events->emit(ev);
}

// Detached from the session (co_spawn): a policy fetch may take seconds
// and the client must not wait for it. Holds what it uses by value
// (snapshot, resolver); the Runtime outlives every coroutine on the I/O
// context.
asio::awaitable<void> sender_posture_check(Runtime& rt, std::shared_ptr<const Snapshot> snap, core::Event ev,
                                           std::string domain) {
    try {
        std::shared_ptr<core::Resolver> resolver = rt.resolver;
        const tlspolicy::StsSource src = sts_source(rt, *snap);
        auto op = rt.sender_posture.check(*resolver, domain, &src);  // named: GCC 12 co_await temporaries
        const tlspolicy::Posture p = co_await std::move(op);
        emit_posture(rt, std::move(ev), domain, p);
    } catch (const std::exception&) {
        // a signal only: a failed lookup raises nothing
    }
}

}  // namespace

asio::awaitable<void> Session::handshake_failed(std::string helo_before) {
    const tlspolicy::OfferedHello hello = tlspolicy::offered_hello(stream_.native_ssl());
    tlspolicy::HandshakeFailure f;
    f.at = unix_now();
    f.client = stream_.remote_ip();
    f.helo = helo_before;
    f.error = stream_.last_tls_error();
    f.listener = listener_.name;
    f.offered_versions = tlspolicy::join_list(hello.versions);
    f.offered_ciphers = tlspolicy::join_list(hello.ciphers, ':');
    // A lab listener fails handshakes on purpose: not evidence against the client.
    if (rt_.downgrades && !lab()) {
        // The durable write (fsync) runs on the blocking pool; the event is
        // logged once the record is on disk, so nothing an event announced
        // is lost to a crash.
        tlspolicy::TrackerWrites w = rt_.downgrades->record(f);
        if (!w.empty()) {
            auto persist = [tracker = rt_.downgrades, w = std::move(w)] { tracker->persist(w); };
            auto op = core::offload(rt_.blocking, std::move(persist));  // named: co_await temporaries
            co_await std::move(op);
        }
    }
    rt_.events->emit(event("tls.handshake_failed")
                         .set(Field::helo, f.helo)
                         .set(Field::listener, f.listener)
                         .set(Field::network, tlspolicy::client_network(f.client))
                         .set(Field::error, f.error)
                         .set(Field::offered_versions, f.offered_versions)
                         .set(Field::offered_ciphers, f.offered_ciphers));
}

void Session::handshake_done(const std::string& helo_before) {
    tls_ = tlspolicy::describe(stream_.native_ssl());
    rt_.events->emit(event("tls.handshake")
                         .set(Field::listener, listener_.name)
                         .set(Field::tls_version, tls_->version)
                         .set(Field::cipher, tls_->cipher)
                         .set(Field::peer_cert, tls_->peer_subject));
    if (!snap_->dry_run || lab()) return;  // a lab listener is weak on purpose
    const std::string why = snap_->dry_run->would_refuse(tls_->version, tls_->cipher);
    if (why.empty()) return;
    rt_.events->emit(event("tls.would_refuse")
                         .set(Field::helo, helo_before)
                         .set(Field::listener, listener_.name)
                         .set(Field::mode, "dry_run")
                         .set(Field::policy, snap_->dry_run->name())
                         .set(Field::tls_version, tls_->version)
                         .set(Field::cipher, tls_->cipher)
                         .set(Field::reason, why));
}

asio::awaitable<bool> Session::mail_tls_gate(const smtp::Command& c) {
    // Only a MAIL that on_mail would take; its own checks answer the rest.
    // mx listeners only: submission refuses plaintext MAIL itself (SPEC §5).
    if (listener_.role != conf::ListenerRole::mx || stream_.tls_active() || helo_.empty() || tx_.active)
        co_return true;
    const auto& a = std::get<smtp::PathArgs>(c.args);
    const std::string sender = a.path.null ? std::string() : a.path.address();
    const std::string why = tlspolicy::require_tls_match(cfg_.tls.inbound, stream_.remote_ip(), sender);
    if (!why.empty()) {
        const core::Reply r = replies::require_tls();
        rt_.events->emit(event("policy.reject")
                             .set(Field::helo, helo_)
                             .set(Field::sender, sender)
                             .set(Field::code, std::to_string(r.code))
                             .set(Field::policy, "require_tls")
                             .set(Field::reason, "require_tls: plaintext MAIL from " + why));
        reply(r);
        co_return false;
    }
    if (!snap_->dry_run) co_return true;
    // Dry run: would a stricter policy (adding this client or sender domain
    // to require_tls) have refused this plaintext MAIL? Candidates are
    // clients that failed a handshake within 24 h and sender domains that
    // publish MTA-STS or DANE.
    std::string reason;
    if (rt_.downgrades) {
        if (auto f = rt_.downgrades->match(stream_.remote_ip(), helo_, unix_now()))
            reason = "plaintext MAIL from a client whose TLS handshake failed at " + tlspolicy::rfc3339_utc(f->at) + " (" +
                     f->error + ")";
    }
    const std::string domain = tlspolicy::sender_domain(sender);
    if (reason.empty() && !domain.empty() && rt_.resolver) {
        // Inline: the dry run's verdict belongs to this MAIL. The first MAIL
        // from an uncached domain waits for the lookup (and a policy fetch,
        // at most 10 s); later ones use the caches.
        const tlspolicy::StsSource src = sts_source(rt_, *snap_);
        auto op = rt_.sender_posture.check(*rt_.resolver, domain, &src);  // named: GCC 12 co_await temporaries
        const tlspolicy::Posture p = co_await std::move(op);
        if (p.mta_sts)
            reason = "plaintext MAIL from " + domain + ", whose MTA-STS policy is in mode enforce (id " + p.sts_id +
                     ")";
        else if (p.dane)
            reason = "plaintext MAIL from " + domain + ", which publishes DANE TLSA for " + p.dane_mx;
    }
    if (!reason.empty())
        rt_.events->emit(event("tls.would_refuse")
                             .set(Field::helo, helo_)
                             .set(Field::listener, listener_.name)
                             .set(Field::sender, sender)
                             .set(Field::mode, "dry_run")
                             .set(Field::policy, "require_tls")
                             .set(Field::tls_version, "none")
                             .set(Field::reason, reason));
    co_return true;
}

asio::awaitable<void> Session::plaintext_accepted(const spool::Envelope& env) {
    const std::string ip = stream_.remote_ip();
    if (rt_.downgrades) {
        if (auto f = rt_.downgrades->match(ip, env.helo, unix_now())) {
            rt_.events->emit(event("tls.downgrade_suspected")
                                 .set(Field::helo, env.helo)
                                 .set(Field::sender, env.sender)
                                 .set(Field::queue_id, env.id)
                                 .set(Field::listener, listener_.name)
                                 .set(Field::network, tlspolicy::client_network(ip))
                                 .set(Field::source, "handshake_failure")
                                 .set(Field::error, f->error)
                                 .set(Field::since, tlspolicy::rfc3339_utc(f->at))
                                 .set(Field::address, f->client)
                                 .set(Field::offered_versions, f->offered_versions)
                                 .set(Field::reason, f->client == ip ? "plaintext delivery after a failed TLS handshake "
                                                                       "from the same address"
                                                                     : "plaintext delivery after a failed TLS handshake "
                                                                       "from the same HELO name in the same network"));
        }
    }
    const std::string domain = tlspolicy::sender_domain(env.sender);
    if (domain.empty() || !rt_.resolver) co_return;
    core::Event base = event("tls.downgrade_suspected")
                           .set(Field::helo, env.helo)
                           .set(Field::sender, env.sender)
                           .set(Field::queue_id, env.id)
                           .set(Field::listener, listener_.name)
                           .set(Field::network, tlspolicy::client_network(ip))
                           .set(Field::domain, domain);
    if (auto hit = rt_.sender_posture.cached(domain, unix_now())) {
        emit_posture(rt_, std::move(base), domain, *hit);
        co_return;
    }
    // Not cached: DNS and possibly an HTTPS policy fetch. The 250 is already
    // queued; the check runs on its own so the session never waits for it.
    const bool flushed = co_await flush();
    if (!flushed) co_return;
    auto ex = co_await asio::this_coro::executor;
    auto check = sender_posture_check(rt_, snap_, std::move(base), domain);
    asio::co_spawn(ex, std::move(check), asio::detached);
}

}  // namespace mxgate::server
