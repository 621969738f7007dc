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
#include "relay/spool/spool.hpp"

namespace mxgate::queue {

// Commits the DSN durably and returns its queue id, or nullopt when no DSN
// is due (null sender) or it could not be written (logged).
std::optional<std::string> queue_bounce(spool::Spool& spool, const conf::Config& cfg,
                                        const spool::QueuedMessage& msg, const std::vector<size_t>& rcpts,
                                        bool delay_only, core::EventSink& events);

}  // namespace mxgate::queue
