// relay/queue/courier.hpp — how the queue hands a message to a transport
// (STYLE §1 "Courier", like chasquid's internal/courier).
//
// A Route says where a group of recipients goes: an owner domain's
// downstream (the home box) or a destination domain's MX hosts. A worker
// delivers messages for one route one after another and keeps a Link (an
// open connection, opaque to the queue) between them, so a backlog uses one
// connection. deliver() never throws for peer behaviour: every recipient
// gets delivered, transient or permanent, and `connected` tells whether the
// server was reached at all (a route that could not be reached is "down").
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "relay/spool/spool.hpp"

namespace mxgate::queue {

struct Route {
    enum class Kind { downstream, mx };
    Kind kind = Kind::downstream;
    std::string domain;  // owner domain (downstream) or destination domain (mx)
    std::string key() const { return (kind == Kind::downstream ? "downstream:" : "mx:") + domain; }
    bool operator==(const Route& o) const { return kind == o.kind && domain == o.domain; }
};

enum class RcptResult { delivered, transient, permanent };

struct RcptOutcome {
    RcptResult result = RcptResult::transient;
    std::string reply;  // remote reply text or local reason
};

struct DeliveryOutcome {
    std::vector<RcptOutcome> rcpts;  // parallel to the rcpts argument
    bool connected = false;          // reached a server and got its greeting
    std::string mx;                  // host[:port] that answered
    std::string error;               // connection-level error, if any
    bool peer_dsn = false;           // the server offered DSN (RFC 3461)
    bool lmtp = false;               // LMTP: final delivery
};

// Opaque per-worker connection state kept between messages.
struct Link {
    virtual ~Link() = default;
};

class Courier {
public:
    virtual ~Courier() = default;
    virtual boost::asio::awaitable<DeliveryOutcome> deliver(const Route& route,
                                                            const spool::QueuedMessage& msg,
                                                            const std::string& body,
                                                            const std::vector<size_t>& rcpts,
                                                            std::unique_ptr<Link>& link) = 0;
    // Ends the worker's connection politely (QUIT, TLS close), bounded.
    virtual boost::asio::awaitable<void> close(std::unique_ptr<Link>& link) = 0;
    // The link holds an open connection worth keeping for the next message
    // (the queue keeps an idle worker's connection a moment: QueueManager::kLinger).
    virtual bool connected(const std::unique_ptr<Link>& link) const {
        (void)link;
        return false;
    }
};

}  // namespace mxgate::queue
