// relay/client/client.hpp — the SMTP/LMTP client that delivers to an owner
// domain's downstream (the "home box"; later also internet MX hosts).
//
// Interface (the queue manager's view; STYLE §1 "Courier"):
//
//   DownstreamCourier courier(executor, resolver, downstream, tls_ctx, settings);
//   std::unique_ptr<Connection> conn;            // one per queue worker
//   DeliveryOutcome out = co_await courier.deliver(envelope, body, rcpts, conn);
//   ...                                          // more messages reuse conn
//   co_await courier.close(conn);                // QUIT + TLS close, bounded
//
// deliver() opens a connection when `conn` is empty (DNS lookup of the
// configured host on every attempt — the home box has a dynamic address —
// then each address in turn), or reuses it after an RSET that proves it is
// still alive (a dead cached connection is replaced silently). It never
// throws for peer behaviour: every recipient index in `rcpts` ends
// delivered, transient or permanent with the reply or local reason, and the
// outcome tells whether a server was reached and what TLS did, so the
// caller can log tls.handshake / tls.handshake_failed /
// tls.plaintext_fallback (SPEC §9) and mark the downstream down.
// docs/delivery-client.md explains the behaviour per TLS mode.
//
// The message is the envelope's `prepend` followed by `body` (CRLF lines,
// dots unstuffed, as the spool keeps them); the client dot-stuffs it in
// 64 KiB chunks and never copies the body as a whole.
//
// Files: reply_parser (server replies), ehlo_capabilities (EHLO/LHLO),
// smtp_text (dot-stuffing, command lines, SASL), smtp_session (one
// connection's protocol), connect (DNS + TCP with deadlines),
// downstream_courier (TLS mode policy, reuse, fallback).
//
// SECURITY: everything the server sends is untrusted: replies are parsed by
// the pure, fuzzed reply_parser with line and line-count limits, and reply
// text is sanitised before it reaches logs or DSNs. Passwords are sent only
// over TLS (never in plaintext, whatever the server offers), read from
// password_file per connection and never logged. Under encrypt, verify and
// pin a TLS failure defers; it never falls back to plaintext.
// RFCs: 5321 (SMTP), 2033 (LMTP), 3207 (STARTTLS), 2920 (PIPELINING),
// 1870 (SIZE), 6152 (8BITMIME), 6531 (SMTPUTF8), 3461 (DSN), 4954 + 4616
// (AUTH PLAIN), 3463 + 2034 (enhanced status codes).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"
#include "relay/core/resolver.hpp"
#include "relay/spool/spool.hpp"
#include "tlspolicy/dane.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::client {

using Duration = std::chrono::steady_clock::duration;

// Deadlines for each wait (STYLE §2: every await has one). Defaults are
// RFC 5321 §4.5.3.2's minimums; Postfix uses the same numbers.
struct ClientTimeouts {
    Duration connect = std::chrono::seconds(30);       // per address (Postfix smtp_connect_timeout)
    Duration greeting = std::chrono::minutes(5);       // §4.5.3.2.1
    Duration command = std::chrono::minutes(5);        // EHLO, MAIL, RCPT, RSET, AUTH (§4.5.3.2.2-3)
    Duration data_init = std::chrono::minutes(2);      // DATA -> 354 (§4.5.3.2.4)
    Duration data_block = std::chrono::minutes(3);     // each write of message data (§4.5.3.2.5)
    Duration data_done = std::chrono::minutes(10);     // "." -> reply (§4.5.3.2.6)
    Duration tls_handshake = std::chrono::seconds(30);
    Duration quit = std::chrono::seconds(10);          // QUIT reply and TLS close_notify

    // command, data_block and tls_handshake from limits.timeouts; the rest
    // keep their defaults.
    static ClientTimeouts from_config(const conf::Timeouts& t);
};

struct ClientSettings {
    std::string hostname;            // our EHLO/LHLO name (config `hostname`)
    ClientTimeouts timeouts;
    // tls.outbound.fallback: what an opportunistic handshake failure does.
    // plaintext_logged: reconnect in plaintext and report it in the
    // outcome (tls.plaintext_fallback); defer: transient failure.
    conf::Fallback fallback = conf::Fallback::plaintext_logged;
    // DANE (RFC 7672) for this connection: set when the host has usable
    // signed TLSA records. TLS is then mandatory whatever the mode, the
    // records are armed before the handshake (tlspolicy::arm_dane) and a
    // certificate that matches none of them fails the session: defer,
    // never plaintext. SNI is the TLSA base domain (RFC 7672 §8.1).
    std::shared_ptr<const tlspolicy::DanePlan> dane;
    // Names the certificate must match under tls: verify (".x" = any
    // subdomain of x); empty = the configured host. The outbound policy's
    // `match` list, or the MX host name (tlspolicy::MxPlan::names).
    std::vector<std::string> verify_names;
};

enum class RcptResult { delivered, transient, permanent };

struct RcptOutcome {
    RcptResult result = RcptResult::transient;
    std::string reply;   // "550 5.1.1 text" from the server, or a local reason
};

// What TLS did on the connection used for this delivery.
struct TlsOutcome {
    bool new_connection = false;   // false: a reused connection (already reported)
    bool attempted = false;        // STARTTLS was sent
    bool starttls_offered = false; // the server's EHLO reply listed STARTTLS (TLS-RPT)
    bool established = false;      // the connection carried the message over TLS
    tlspolicy::SessionInfo info;   // valid when a handshake completed
    std::string error;             // handshake or verification failure, if any
    std::string dane_match;        // DANE: the TLSA record that matched ("3 1 1 ab..")
    // The certificate names the expected host (verify_names, else the
    // host), whatever the mode: MTA-STS testing and the best-TLS memory
    // need it even when the mode does not check.
    bool name_matched = false;
    // The peer was authenticated under the mode in force: verify (chain +
    // names), pin (SPKI pin) or DANE. REQUIRETLS needs it (RFC 8689 §4.2.1).
    bool authenticated = false;
    // Opportunistic TLS failed and the message went in plaintext on a new
    // connection: log tls.plaintext_fallback with `error`.
    bool plaintext_fallback = false;
};

struct DeliveryOutcome {
    std::vector<RcptOutcome> rcpts;  // parallel to the rcpts argument
    bool connected = false;          // reached a server and got its greeting
    std::string mx;                  // "host[ip]:port" that answered
    std::string local_ip;            // our address on that connection (TLS-RPT sending-mta-ip)
    std::string error;               // connection-level error, if any
    TlsOutcome tls;
    // The session was given up for a TLS reason (no or refused STARTTLS
    // under a mandatory mode, handshake, certificate or DANE failure), as
    // opposed to the network or the server's replies.
    bool tls_failure = false;
    // REQUIRETLS (RFC 8689): the message was not sent because the session
    // could not carry it; the recipients are permanent with `requiretls`'s
    // status. The MX courier then tries the next MX host.
    bool requiretls_refused = false;
    // What the server that took the transaction offers (RFC 3461 §5.2.2:
    // NOTIFY=SUCCESS to a server without DSN is answered "relayed" by us;
    // LMTP is final delivery: "delivered").
    bool peer_dsn = false;
    bool lmtp = false;
};

// An open session (greeting, EHLO, STARTTLS and AUTH done); opaque to
// callers, who only keep it between deliver() calls.
class Connection {
public:
    virtual ~Connection() = default;
    virtual bool usable() const = 0;          // false once the session broke
    virtual const std::string& peer() const = 0;   // "host[ip]:port"
};

class DownstreamCourier {
public:
    // tls_ctx: tlspolicy::make_client_context(outbound profile, ca_file);
    // may be null only when downstream.tls == none.
    DownstreamCourier(boost::asio::any_io_executor ex, std::shared_ptr<core::Resolver> resolver,
                      conf::Downstream downstream, tlspolicy::ContextPtr tls_ctx,
                      ClientSettings settings);
    ~DownstreamCourier();

    // Delivers envelope.prepend + body to envelope.recipients[i] for each i
    // in rcpts. `conn` is reused when set and alive, replaced otherwise, and
    // reset when the session broke.
    boost::asio::awaitable<DeliveryOutcome> deliver(const spool::Envelope& envelope,
                                                    std::string_view body,
                                                    const std::vector<size_t>& rcpts,
                                                    std::unique_ptr<Connection>& conn);
    // QUIT and TLS close_notify, bounded by timeouts.quit; resets conn.
    boost::asio::awaitable<void> close(std::unique_ptr<Connection>& conn);

    const conf::Downstream& downstream() const { return downstream_; }

private:
    boost::asio::any_io_executor ex_;
    std::shared_ptr<core::Resolver> resolver_;
    conf::Downstream downstream_;
    tlspolicy::ContextPtr tls_ctx_;
    ClientSettings settings_;
};

}  // namespace mxgate::client
