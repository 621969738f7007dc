// relay/server/control.hpp — the daemon's control socket, <spool>/control
// (a Unix stream socket, mode 0600, so only the spool's owner can use it).
// `mxgate queue flush|delete|bounce|release` send one line ("flush ID\n")
// and read one line back ("ok ...\n" or "error ...\n"). When no daemon
// listens, those commands act on the spool files directly.
// "dmarc-report-now" (`mxgate report dmarc --send-now`) closes the recorded
// DMARC period and sends its aggregate reports (relay/report/dmarc_sender).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <optional>
#include <string>

#include "relay/server/runtime.hpp"

namespace mxgate::server {

std::string control_socket_path(const conf::Config& cfg);

// Binds the socket (replacing a stale one). Throws with a clear message.
boost::asio::local::stream_protocol::acceptor bind_control(boost::asio::io_context& io, const std::string& path);
boost::asio::awaitable<void> serve_control(Runtime& rt, boost::asio::local::stream_protocol::acceptor& acc);

// Client side: sends one command; nullopt when no daemon is listening.
std::optional<std::string> control_request(const std::string& path, const std::string& line);

// Executes one command line against the queue manager (pure dispatch, tested).
std::string control_execute(Runtime& rt, const std::string& line);

}  // namespace mxgate::server
