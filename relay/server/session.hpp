// relay/server/session.hpp — one SMTP server session (RFC 5321) per
// connection, as one coroutine that owns its stream (STYLE §2).
//
// The session turns bytes into commands with the pure parsers of
// relay/smtp, asks the policies for verdicts, streams message data into the
// spool, and answers 250 to end of data only after the spool commit is
// durable (SPEC §4). See session_impl.hpp for its parts.
//
// SECURITY: everything the peer sends is untrusted. Plaintext pipelined
// after STARTTLS is discarded and the state reset (RFC 3207 §4.2); bare CR
// or LF is refused in commands and data (no SMTP smuggling); every read has
// a deadline (limits.timeouts).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "relay/server/runtime.hpp"

namespace mxgate::server {

boost::asio::awaitable<void> run_session(Runtime& rt, std::shared_ptr<const Snapshot> snap,
                                         std::string listener_name, boost::asio::ip::tcp::socket sock,
                                         ConnectionLimits::Slot slot);

}  // namespace mxgate::server
