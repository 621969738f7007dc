// tests/unit/client/test_server.hpp — a small scripted SMTP/LMTP server
// with real STARTTLS (net::SmtpStream + a tlspolicy server context), for
// the client tests that smtp-sink cannot cover: TLS modes, per-recipient
// replies, exact wire bytes. It records what the client sent.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::testsrv {

struct Transaction {
    std::string mail;                 // MAIL line as received (no CRLF)
    std::vector<std::string> rcpts;   // RCPT lines
    std::string data;                 // raw DATA bytes, stuffed, incl. final ".\r\n"
    bool tls = false;
};

struct ServerScript {
    bool lmtp = false;
    std::string greeting = "220 home.test ESMTP test";
    bool offer_starttls = true;
    std::string starttls_reply = "220 2.0.0 go ahead";
    bool pipelining = true;
    bool smtputf8 = true;
    std::vector<std::string> auth_mechs;      // offered after TLS only
    std::string auth_user, auth_password;      // expected credentials
    std::map<std::string, std::string> rcpt_replies;   // address -> reply line
    std::map<std::string, std::string> lmtp_replies;   // address -> final LMTP reply
    std::string data_reply = "250 2.0.0 Ok: queued";
    tlspolicy::ContextPtr tls_ctx;            // null: STARTTLS fails with 454
    bool starttls_garbage = false;            // 220, then plaintext junk: handshake fails
    bool close_after_message = false;         // drop the connection after "."
};

struct ServerLog {
    int connections = 0;
    std::vector<Transaction> transactions;
    std::vector<std::string> commands;        // every command line (AUTH redacted)
    bool auth_plaintext_seen = false;         // an AUTH command before TLS
    bool auth_ok = false;
    int rsets = 0;
};

class TestServer {
public:
    TestServer(boost::asio::io_context& ioc, ServerScript script);
    uint16_t port() const { return port_; }
    const ServerLog& log() const { return *log_; }
    void stop();

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket sock);

    boost::asio::io_context& ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<ServerScript> script_;
    std::shared_ptr<ServerLog> log_;
    uint16_t port_ = 0;
};

}  // namespace mxgate::testsrv
