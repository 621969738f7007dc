// tests/unit/client/test_server.cpp — see test_server.hpp.
#include "test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "relay/client/smtp_text.hpp"
#include "relay/net/smtp_stream.hpp"

namespace mxgate::testsrv {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

asio::awaitable<std::optional<std::string>> read_line(net::SmtpStream& s) {
    while (true) {
        const auto buf = s.buffered();
        const size_t pos = buf.find("\r\n");
        if (pos != std::string_view::npos) {
            std::string line(buf.substr(0, pos));
            s.consume(pos + 2);
            co_return line;
        }
        const auto ec = co_await s.fill(10s);
        if (ec) co_return std::nullopt;
    }
}

asio::awaitable<std::optional<std::string>> read_data(net::SmtpStream& s) {
    while (true) {
        const auto buf = s.buffered();
        // End of data: CRLF "." CRLF, where the first CRLF may be the
        // DATA line's own (an empty message).
        if (buf.substr(0, 3) == ".\r\n") {
            s.consume(3);
            co_return std::string(".\r\n");
        }
        const size_t pos = buf.find("\r\n.\r\n");
        if (pos != std::string_view::npos) {
            std::string data(buf.substr(0, pos + 5));
            s.consume(pos + 5);
            co_return data;
        }
        const auto ec = co_await s.fill(10s, 64 << 20);
        if (ec) co_return std::nullopt;
    }
}

std::string upper(std::string s) {
    for (char& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

// "RCPT TO:<x@y> ..." -> "x@y"
std::string path_of(const std::string& line) {
    const size_t a = line.find('<'), b = line.find('>');
    if (a == std::string::npos || b == std::string::npos || b < a) return {};
    return line.substr(a + 1, b - a - 1);
}

}  // namespace

TestServer::TestServer(asio::io_context& ioc, ServerScript script)
    : ioc_(ioc),
      acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      script_(std::make_shared<ServerScript>(std::move(script))),
      log_(std::make_shared<ServerLog>()) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
}

void TestServer::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

asio::awaitable<void> TestServer::accept_loop() {
    while (acceptor_.is_open()) {
        boost::system::error_code ec;
        tcp::socket sock = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        ++log_->connections;
        asio::co_spawn(ioc_, session(std::move(sock)), asio::detached);
    }
}

asio::awaitable<void> TestServer::session(tcp::socket sock) {
    auto script = script_;
    auto log = log_;
    net::SmtpStream s(std::move(sock));
    auto say = [&](const std::string& line) -> asio::awaitable<bool> {
        co_return !co_await s.write(line + "\r\n", 10s);
    };
    const bool greeted = co_await say(script->greeting);
    if (!greeted) co_return;
    if (script->greeting.rfind("220", 0) != 0) {
        s.close();
        co_return;
    }
    Transaction tx;
    bool in_mail = false;
    std::vector<std::string> accepted;
    while (true) {
        auto line = co_await read_line(s);
        if (!line) break;
        const std::string verb = upper(line->substr(0, line->find(' ')));
        log->commands.push_back(verb == "AUTH" ? "AUTH ***" : *line);
        if (verb == "EHLO" || verb == "LHLO" || verb == "HELO") {
            if ((verb == "LHLO") != script->lmtp) {
                co_await say("500 5.5.1 wrong protocol");
                continue;
            }
            std::string r = "250-home.test\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SIZE 1000000";
            if (script->pipelining) r += "\r\n250-PIPELINING";
            if (script->smtputf8) r += "\r\n250-SMTPUTF8";
            if (script->offer_starttls && !s.tls_active()) r += "\r\n250-STARTTLS";
            if (s.tls_active() && !script->auth_mechs.empty()) {
                r += "\r\n250-AUTH";
                for (const auto& m : script->auth_mechs) r += " " + m;
            }
            r += "\r\n250 DSN";
            co_await say(r);
        } else if (verb == "STARTTLS") {
            if (!script->tls_ctx) {
                co_await say("454 4.7.0 TLS not available");
                continue;
            }
            co_await say(script->starttls_reply);
            if (script->starttls_reply.rfind("220", 0) != 0) continue;
            if (script->starttls_garbage) {
                co_await say("this is not a TLS record, and then we hang up");
                break;
            }
            const auto hec = co_await s.handshake_server(*script->tls_ctx, 10s);
            if (hec) break;
        } else if (verb == "AUTH") {
            if (!s.tls_active()) log->auth_plaintext_seen = true;
            bool ok = false;
            if (line->size() > 11 && upper(line->substr(5, 6)) == "PLAIN ") {
                ok = line->substr(11) == client::sasl_plain(script->auth_user, script->auth_password);
            } else if (upper(*line) == "AUTH LOGIN") {
                co_await say("334 VXNlcm5hbWU6");
                auto u = co_await read_line(s);
                co_await say("334 UGFzc3dvcmQ6");
                auto p = co_await read_line(s);
                ok = u && p && *u == client::base64_encode(script->auth_user) &&
                     *p == client::base64_encode(script->auth_password);
            }
            log->auth_ok = ok;
            const std::string verdict = ok ? "235 2.7.0 Authentication successful" : "535 5.7.8 Bad credentials";
            co_await say(verdict);
        } else if (verb == "MAIL") {
            tx = Transaction{};
            tx.mail = *line;
            tx.tls = s.tls_active();
            accepted.clear();
            in_mail = true;
            co_await say("250 2.1.0 Ok");
        } else if (verb == "RCPT") {
            tx.rcpts.push_back(*line);
            const std::string addr = path_of(*line);
            auto it = script->rcpt_replies.find(addr);
            const std::string reply = it != script->rcpt_replies.end() ? it->second : "250 2.1.5 Ok";
            if (reply[0] == '2') accepted.push_back(addr);
            co_await say(reply);
        } else if (verb == "DATA") {
            if (!in_mail || accepted.empty()) {
                co_await say("554 5.5.1 Error: no valid recipients");
                continue;
            }
            co_await say("354 End data with <CR><LF>.<CR><LF>");
            auto data = co_await read_data(s);
            if (!data) break;
            tx.data = *data;
            log->transactions.push_back(tx);
            in_mail = false;
            if (script->lmtp) {
                for (const auto& a : accepted) {
                    auto it = script->lmtp_replies.find(a);
                    // Temporaries in a conditional inside co_await trip a
                    // GCC 12 coroutine bug (double free): build it first.
                    std::string reply = "250 2.0.0 <" + a + "> delivered";
                    if (it != script->lmtp_replies.end()) reply = it->second;
                    co_await say(reply);
                }
            } else {
                co_await say(script->data_reply);
            }
            if (script->close_after_message) break;
        } else if (verb == "RSET") {
            ++log->rsets;
            in_mail = false;
            co_await say("250 2.0.0 Ok");
        } else if (verb == "QUIT") {
            co_await say("221 2.0.0 Bye");
            break;
        } else {
            co_await say("502 5.5.2 Error: command not recognized");
        }
    }
    co_await s.shutdown(2s);
}

}  // namespace mxgate::testsrv
