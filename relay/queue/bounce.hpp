// relay/queue/bounce.hpp — queues a delivery status notification (RFC 3464)
// for failed or delayed recipients, as a new message from the null sender
// to the original envelope sender. Never for a message from <> or
// MAILER-DAEMON (no bounce loops). The DSN text is built by spool/dsn.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "relay/core/event_sink.hpp"
#include "relay/spool/dsn.hpp"
#include "relay/spool/spool.hpp"

namespace mxgate::queue {

// Commits the DSN durably and returns its queue id, or nullopt when no DSN
// is due (null sender) or it could not be written (logged).
std::optional<std::string> queue_bounce(spool::Spool& spool, const conf::Config& cfg,
                                        const spool::QueuedMessage& msg, const std::vector<size_t>& rcpts,
                                        bool delay_only, core::EventSink& events);

// Any kind of DSN (queue_bounce is failure/delay). Only the recipients of
// rcpts whose NOTIFY asks for that kind are reported. remote_mta: the
// peer that took the message ("host[ip]:port", success notices), or "".
std::optional<std::string> queue_dsn(spool::Spool& spool, const conf::Config& cfg, const spool::QueuedMessage& msg,
                                     const std::vector<size_t>& rcpts, spool::DsnKind kind,
                                     const std::string& remote_mta, core::EventSink& events);

// RFC 3461 §5.2.2 / §6.2.3: which success notice a delivery owes to
// NOTIFY=SUCCESS recipients — none when the next hop offers DSN (it got
// NOTIFY/ORCPT/ENVID/RET and reports itself), "delivered" for LMTP (final
// delivery), "relayed" for an SMTP next hop without DSN.
std::optional<spool::DsnKind> success_notice_kind(bool peer_dsn, bool lmtp);

}  // namespace mxgate::queue
