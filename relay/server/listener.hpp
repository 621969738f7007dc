// relay/server/listener.hpp — binds the configured listeners and accepts
// connections. Each accepted connection is checked against the connection
// limits (421 4.7.0 and close when over, SPEC §4), then gets its own
// session coroutine on its own strand.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "relay/server/runtime.hpp"

namespace mxgate::server {

// Opens, binds and listens; throws std::runtime_error naming the listener
// and address on failure (port in use, permission denied...).
boost::asio::ip::tcp::acceptor bind_listener(boost::asio::io_context& io, const conf::HostPort& at,
                                             const std::string& what);

// Accepts until the acceptor is closed (drain).
boost::asio::awaitable<void> accept_loop(Runtime& rt, std::string listener_name,
                                         boost::asio::ip::tcp::acceptor& acceptor);

// The same for a listener of a ListenerSet (listener_set.hpp): holds it
// alive, and reads its name at each accept (a reload may rename it).
struct BoundListener;
boost::asio::awaitable<void> accept_loop(Runtime& rt, std::shared_ptr<BoundListener> listener);

}  // namespace mxgate::server
