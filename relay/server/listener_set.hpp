// relay/server/listener_set.hpp — the daemon's bound listeners, and their
// change on SIGHUP without a restart (issue 2).
//
// A reload is two steps so it applies entirely or not at all:
//   prepare(next)  binds every listener of the new configuration whose
//                  address is not bound yet. If one bind fails (port in
//                  use, address not local, permission), what it bound is
//                  closed again and the running set is untouched: the
//                  caller logs config.reload_failed and keeps the old
//                  configuration.
//   commit()       starts accepting on the new sockets, renames kept ones,
//                  and closes the sockets of removed listeners. Sessions
//                  already accepted on a closed socket run to their end.
// A listener is matched by its address ("host:port" as configured): an
// unchanged address keeps its socket (no moment without a listener), even
// if the listener's name or role changed (a session reads its listener's
// settings from the snapshot it starts with).
//
// XXX A wildcard address overlapping a removed specific one on the same
// port ("0.0.0.0:25" replacing "192.0.2.1:25") fails to bind while the
// old socket is open, so that reload is refused; it needs a restart.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "relay/server/runtime.hpp"

namespace mxgate::server {

struct BoundListener {
    std::string name;     // renamed in place by a reload
    std::string address;  // conf::HostPort::text(): what a reload matches on
    boost::asio::ip::tcp::acceptor acceptor;
};

class ListenerSet {
public:
    explicit ListenerSet(Runtime& rt) : rt_(rt) {}

    // At start: binds every listener (throws std::runtime_error naming the
    // listener and address on the first failure); start() then accepts.
    void bind_all(const std::vector<conf::Listener>& listeners);

    // A reload's first step (see above). false + error: nothing changed.
    bool prepare(const std::vector<conf::Listener>& next, std::string& error);
    struct Changes {
        std::vector<const BoundListener*> opened, closed;
    };
    // Applies the prepared set; with nothing prepared, starts what
    // bind_all() bound. The pointers are valid until the next change.
    Changes commit();
    // Closes every socket (drain); accept loops end, sessions go on.
    void close_all();

private:
    Runtime& rt_;
    std::vector<std::shared_ptr<BoundListener>> current_;
    // The next set, in configuration order, and which of it is new.
    std::vector<std::shared_ptr<BoundListener>> next_;
    std::vector<bool> next_is_new_;
    std::vector<std::string> next_names_;
    std::vector<std::shared_ptr<BoundListener>> closed_;  // kept for Changes
};

}  // namespace mxgate::server
