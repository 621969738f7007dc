#include "relay/queue/bounce.hpp"

#include <chrono>

#include "relay/queue/local_message.hpp"
#include "relay/spool/dsn.hpp"

namespace mxgate::queue {

using core::Event;
using core::Field;

namespace {

uint8_t notify_bit(spool::DsnKind kind) {
    switch (kind) {
        case spool::DsnKind::failure: return spool::notify::failure;
        case spool::DsnKind::delay: return spool::notify::delay;
        case spool::DsnKind::relayed:
        case spool::DsnKind::delivered: return spool::notify::success;
    }
    return spool::notify::failure;
}

const char* event_name(spool::DsnKind kind) {
    switch (kind) {
        case spool::DsnKind::failure: return "queue.bounce_queued";
        case spool::DsnKind::delay: return "queue.delay_notice";
        case spool::DsnKind::relayed:
        case spool::DsnKind::delivered: return "queue.success_notice";
    }
    return "queue.bounce_queued";
}

// "host[192.0.2.1]:25" (the client's peer text) → "host" for Remote-MTA's
// "dns;" type (RFC 3464 §2.3.5).
std::string mta_host(const std::string& peer) {
    const size_t end = peer.find_first_of("[:");
    return peer.substr(0, end);
}

}  // namespace

std::optional<spool::DsnKind> success_notice_kind(bool peer_dsn, bool lmtp) {
    if (peer_dsn) return std::nullopt;
    return lmtp ? spool::DsnKind::delivered : spool::DsnKind::relayed;
}

std::optional<std::string> queue_bounce(spool::Spool& spool, const conf::Config& cfg,
                                        const spool::QueuedMessage& msg, const std::vector<size_t>& rcpts,
                                        bool delay_only, core::EventSink& events) {
    return queue_dsn(spool, cfg, msg, rcpts, delay_only ? spool::DsnKind::delay : spool::DsnKind::failure, "",
                     events);
}

std::optional<std::string> queue_dsn(spool::Spool& spool, const conf::Config& cfg, const spool::QueuedMessage& msg,
                                     const std::vector<size_t>& rcpts, spool::DsnKind kind,
                                     const std::string& remote_mta, core::EventSink& events) {
    const auto& env = msg.envelope;
    // RFC 3461 §4.1: only recipients whose NOTIFY asks for this notice.
    std::vector<size_t> wanted;
    for (size_t i : rcpts)
        if (i < env.recipients.size() && spool::notify_wants(env.recipients[i], notify_bit(kind)))
            wanted.push_back(i);
    if (!spool::should_bounce(env) || wanted.empty()) return std::nullopt;
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();

    spool::DsnRequest req;
    req.kind = kind;
    req.reporting_mta = cfg.hostname;
    req.now = now;
    if (kind == spool::DsnKind::delay) req.retry_until = env.arrival + cfg.queue.max_lifetime.count();
    for (size_t i : wanted) {
        spool::DsnRecipient r;
        r.address = env.recipients[i].address;
        r.orcpt = env.recipients[i].orcpt;
        r.remote_mta = mta_host(remote_mta);
        if (i < msg.state.rcpt_reply.size()) r.reply = msg.state.rcpt_reply[i];
        r.last_attempt = now;
        req.recipients.push_back(std::move(r));
    }
    std::string original = env.prepend;
    std::string body;
    if (spool.read_body(env.id, body)) original += body;
    req.original = original;
    const spool::Dsn dsn = spool::make_dsn(env, req);

    GeneratedMessage g;
    g.sender = "";  // RFC 3464 §2: DSNs come from the null reverse-path
    g.recipients.push_back(env.sender);
    g.bytes = dsn.message;
    g.helo = cfg.hostname;
    g.listener = "bounce";
    g.body_8bit = dsn.body_8bit;
    g.smtputf8 = dsn.smtputf8;
    // RFC 8689 §5: the DSN of a REQUIRETLS message asks for REQUIRETLS
    // too; from <> it is sent even where REQUIRETLS cannot be had (the
    // courier treats a null-sender REQUIRETLS message as best effort).
    g.requiretls = env.requiretls;
    const auto id = commit_generated(spool, g, events, "bounce", env.id);
    if (!id) return std::nullopt;
    events.emit(Event(event_name(kind))
                    .set(Field::queue_id, *id)
                    .set(Field::id, env.id)
                    .set(Field::recipients, std::vector<std::string>{env.sender}));
    return id;
}

}  // namespace mxgate::queue
