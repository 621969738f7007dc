// relay/spool/message_state.hpp — rules both spools share (private to
// relay/spool): what state a message without a .state file has, how a
// loaded state is joined to its envelope, and what may be stored.
#pragma once

#include "relay/spool/spool.hpp"

namespace mxgate::spool {

// The state of a message never updated: each recipient as the envelope
// recorded it at commit (pending, in practice), attempts 0, due now.
DeliveryState fresh_state(const Envelope& env);

// Sets msg.state = st and mirrors rcpt_state/rcpt_reply into
// msg.envelope.recipients so callers can read either. False when the
// state's recipient count is not the envelope's (a corrupt pair).
bool attach_state(QueuedMessage& msg, DeliveryState st);

// True when the record decodes back: commit() and update() refuse what
// load() would later reject (a CR/LF in an address, a negative attempt
// count), so a 250 is never given for a message the queue would quarantine.
bool storable(const Envelope& env);
bool storable(const DeliveryState& st, size_t recipients);

}  // namespace mxgate::spool
