// relay/client/smtp_session.hpp — one client connection's SMTP/LMTP
// protocol: replies, EHLO/LHLO, STARTTLS, AUTH, a mail transaction, RSET
// and QUIT. Policy (which TLS mode demands what, fallback, reuse) lives in
// downstream_courier.cpp; this file only speaks the protocol.
//
// Each step returns false (or marks recipients transient) and records
// error() when the connection failed: timeout, peer closed, protocol error
// in a reply. After such a failure usable() is false and the caller drops
// the connection. Every wait has a deadline from ClientTimeouts; reading a
// reply has a total deadline, so a server that trickles bytes cannot hold
// us longer than the timeout.
//
// SECURITY: replies are parsed by the pure ReplyParser (bounded lines and
// line counts). After STARTTLS the stream discards anything buffered
// before the handshake (RFC 3207 §4.2) and the EHLO capabilities are
// forgotten and asked again. Credentials are built here but never stored
// in error() or replies.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relay/client/client.hpp"
#include "relay/client/ehlo_capabilities.hpp"
#include "relay/client/reply_parser.hpp"
#include "relay/core/reply.hpp"
#include "relay/net/smtp_stream.hpp"

namespace mxgate::client {

// "550 5.1.1 text text" on one line, at most 1000 octets: what outcomes,
// logs and the spool's last_reply keep.
std::string reply_text(const core::Reply& r);

class SmtpSession final : public Connection {
public:
    SmtpSession(boost::asio::ip::tcp::socket socket, std::string peer, bool lmtp,
                const ClientTimeouts& timeouts);
    ~SmtpSession() override;

    bool usable() const override { return usable_; }
    const std::string& peer() const override { return peer_; }
    const std::string& error() const { return error_; }
    const EhloCapabilities& caps() const { return caps_; }
    bool lmtp() const { return lmtp_; }
    net::SmtpStream& stream() { return *stream_; }
    // TLS state of this connection, kept for reused deliveries.
    TlsOutcome tls;

    boost::asio::awaitable<bool> read_reply(core::Reply& out, Duration timeout);
    boost::asio::awaitable<bool> send(std::string_view data, Duration timeout);
    boost::asio::awaitable<bool> command(std::string_view line, Duration timeout, core::Reply& out);

    // The 220 greeting (false also when it is not 2xx; error() says so).
    boost::asio::awaitable<bool> greet();
    // EHLO (LHLO for LMTP; HELO when an SMTP server rejects EHLO) and caps.
    boost::asio::awaitable<bool> hello(const std::string& our_name);
    // Sends STARTTLS. Returns the reply in `reply`; true when it was 220.
    boost::asio::awaitable<bool> starttls_command(core::Reply& reply);
    // TLS handshake after a 220; false (connection broken) on failure.
    boost::asio::awaitable<bool> handshake(boost::asio::ssl::context& ctx, const std::string& sni,
                                           net::SmtpStream::Prepare prepare = {});
    // AUTH PLAIN (or LOGIN when PLAIN is not offered). Caller checks TLS.
    boost::asio::awaitable<bool> authenticate(const std::string& user, const std::string& password);

    // One mail transaction for envelope.recipients[rcpts[i]] -> out[i].
    // With PIPELINING, MAIL, RCPT and DATA go as one group (RFC 2920).
    // probe (a reused connection): RSET first, in the same group; false
    // when the RSET got no 250 (the server closed the idle connection,
    // 421, timeout): nothing of this message was taken, `out` means
    // nothing, and the caller retries on a fresh connection. true
    // otherwise (every recipient has its outcome).
    boost::asio::awaitable<bool> transaction(const spool::Envelope& env, std::string_view body,
                                             const std::vector<size_t>& rcpts,
                                             std::vector<RcptOutcome>& out, bool probe = false);
    // The last transaction() refused a REQUIRETLS message because this
    // session cannot carry it (RFC 8689 §4.2.1; tlspolicy/requiretls.hpp).
    bool requiretls_refused() const { return requiretls_refused_; }
    boost::asio::awaitable<bool> rset();
    // QUIT (reply awaited briefly), TLS close_notify, close. Never fails.
    boost::asio::awaitable<void> quit();
    // Closes without QUIT (broken connection).
    void abort();

    void fail(std::string why);

private:
    boost::asio::awaitable<bool> send_data(const spool::Envelope& env, std::string_view body);
    boost::asio::awaitable<bool> finish_data(const spool::Envelope& env, std::string_view body,
                                             const std::vector<size_t>& accepted,
                                             std::vector<RcptOutcome>& out);

    std::unique_ptr<net::SmtpStream> stream_;
    std::string peer_;
    bool lmtp_ = false;
    ClientTimeouts timeouts_;
    ReplyParser parser_;
    EhloCapabilities caps_;
    bool requiretls_refused_ = false;
    bool usable_ = true;
    std::string error_;
};

}  // namespace mxgate::client
