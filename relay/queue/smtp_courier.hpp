// relay/queue/smtp_courier.hpp — the Courier that speaks SMTP/LMTP through
// relay/client: an owner domain's route goes to its configured downstream;
// any other domain (today only DSNs to outside senders) goes to its MX
// hosts (RFC 5321 §5.1: MX by preference, the domain's A/AAAA when there
// is no MX, RFC 7505 null MX = permanent failure) with opportunistic TLS.
// XXX Outbound TLS policy (MTA-STS, DANE, per-domain levels) is issue 3.
//
// TLS events (tls.handshake, tls.handshake_failed, tls.plaintext_fallback)
// are emitted here, where the outcome of each new connection is known.
#pragma once

#include <memory>

#include "relay/queue/courier.hpp"
#include "relay/server/runtime.hpp"

namespace mxgate::queue {

std::shared_ptr<Courier> make_smtp_courier(server::Runtime& rt);

}  // namespace mxgate::queue
