// relay/client/smtp_session.cpp — see smtp_session.hpp.
#include "relay/client/smtp_session.hpp"

#include <algorithm>

#include "relay/client/smtp_text.hpp"
#include "tlspolicy/requiretls.hpp"

namespace mxgate::client {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kChunk = 64 * 1024;        // dot-stuffed bytes per write
constexpr size_t kMaxReplyText = 1000;
// Outcome text of a recipient nothing final has been said about yet.
constexpr const char* kNotAttempted = "not attempted";

RcptResult class_of(const core::Reply& r) {
    return r.code >= 500 ? RcptResult::permanent : RcptResult::transient;
}

std::string local_reply(int code, const char* esc, const std::string& text) {
    return std::to_string(code) + " " + esc + " " + text;
}

// RFC 3461 §4.1 keyword list from the stored bits.
std::string notify_param(uint8_t bits) {
    if (bits & spool::notify::never) return "NEVER";
    std::string out;
    auto add = [&](uint8_t bit, const char* word) {
        if (!(bits & bit)) return;
        if (!out.empty()) out += ',';
        out += word;
    };
    add(spool::notify::success, "SUCCESS");
    add(spool::notify::failure, "FAILURE");
    add(spool::notify::delay, "DELAY");
    return out;
}

}  // namespace

std::string reply_text(const core::Reply& r) {
    std::string out = std::to_string(r.code);
    if (!r.enhanced.empty()) out += " " + r.enhanced;
    for (const auto& l : r.lines) {
        if (l.empty()) continue;
        out += ' ';
        out += l;
        if (out.size() > kMaxReplyText) break;
    }
    if (out.size() > kMaxReplyText) out.resize(kMaxReplyText);
    return out;
}

SmtpSession::SmtpSession(asio::ip::tcp::socket socket, std::string peer, bool lmtp,
                         const ClientTimeouts& timeouts)
    : stream_(std::make_unique<net::SmtpStream>(std::move(socket))),
      peer_(std::move(peer)),
      lmtp_(lmtp),
      timeouts_(timeouts) {}

SmtpSession::~SmtpSession() = default;

void SmtpSession::fail(std::string why) {
    if (usable_) error_ = std::move(why);
    usable_ = false;
}

void SmtpSession::abort() {
    usable_ = false;
    stream_->close();
}

asio::awaitable<bool> SmtpSession::read_reply(core::Reply& out, Duration timeout) {
    if (!usable_) co_return false;
    const auto deadline = Clock::now() + timeout;
    while (true) {
        size_t used = 0;
        const ReplyStatus st = parser_.feed(stream_->buffered(), used);
        stream_->consume(used);
        if (st == ReplyStatus::complete) {
            out = parser_.take();
            co_return true;
        }
        if (st == ReplyStatus::error) {
            fail("protocol error from " + peer_ + ": " + parser_.error());
            co_return false;
        }
        const auto left = deadline - Clock::now();
        if (left <= Duration::zero()) {
            fail("timeout waiting for a reply from " + peer_);
            co_return false;
        }
        const auto ec = co_await stream_->fill(left);
        if (ec) {
            fail(ec == asio::error::timed_out ? "timeout waiting for a reply from " + peer_
                 : ec == asio::error::eof     ? "connection closed by " + peer_
                                              : "read from " + peer_ + ": " + ec.message());
            co_return false;
        }
    }
}

asio::awaitable<bool> SmtpSession::send(std::string_view data, Duration timeout) {
    if (!usable_) co_return false;
    const auto ec = co_await stream_->write(data, timeout);
    if (ec) {
        fail(ec == asio::error::timed_out ? "timeout writing to " + peer_
                                          : "write to " + peer_ + ": " + ec.message());
        co_return false;
    }
    co_return true;
}

asio::awaitable<bool> SmtpSession::command(std::string_view line, Duration timeout, core::Reply& out) {
    const bool ok1 = co_await send(line, timeout);
    if (!ok1) co_return false;
    // XXX GCC 12 miscompiles co_await on a prvalue awaitable inside an
    // if-condition or co_return (SIGILL seen here): this file always
    // stores the result in a local first.
    const bool ok = co_await read_reply(out, timeout);
    co_return ok;
}

asio::awaitable<bool> SmtpSession::greet() {
    core::Reply r;
    const bool ok2 = co_await read_reply(r, timeouts_.greeting);
    if (!ok2) co_return false;
    // RFC 5321 §4.3.2: 220 ready, 554 no service.
    if (r.code != 220) {
        error_ = "greeting from " + peer_ + ": " + reply_text(r);
        co_return false;
    }
    co_return true;
}

asio::awaitable<bool> SmtpSession::hello(const std::string& our_name) {
    caps_ = EhloCapabilities{};
    core::Reply r;
    // RFC 2033 §4.1: LMTP has LHLO only.
    const std::string hello_line = (lmtp_ ? "LHLO " : "EHLO ") + our_name + "\r\n";
    const bool ok3 = co_await command(hello_line, timeouts_.command, r);
    if (!ok3) co_return false;
    if (r.code == 250) {
        caps_ = parse_ehlo(r);
        co_return true;
    }
    if (!lmtp_ && r.code >= 500) {
        // RFC 5321 §3.2: a server that does not know EHLO still knows HELO.
        const std::string helo_line = "HELO " + our_name + "\r\n";
        const bool ok4 = co_await command(helo_line, timeouts_.command, r);
        if (!ok4) co_return false;
        if (r.code == 250) co_return true;
    }
    error_ = (lmtp_ ? "LHLO" : "EHLO") + std::string(" rejected by ") + peer_ + ": " + reply_text(r);
    co_return false;
}

asio::awaitable<bool> SmtpSession::starttls_command(core::Reply& reply) {
    const bool ok5 = co_await command("STARTTLS\r\n", timeouts_.command, reply);
    if (!ok5) co_return false;
    co_return reply.code == 220;
}

asio::awaitable<bool> SmtpSession::handshake(asio::ssl::context& ctx, const std::string& sni,
                                             net::SmtpStream::Prepare prepare) {
    // The stream drops its buffer (RFC 3207 §4.2: nothing sent in plaintext
    // after the 220 may be used); the parser must forget partial lines too.
    parser_.reset();
    auto op = stream_->handshake_client(ctx, sni, timeouts_.tls_handshake, std::move(prepare));
    const auto ec = co_await std::move(op);
    if (ec) {
        const std::string why = stream_->last_tls_error().empty() ? ec.message() : stream_->last_tls_error();
        fail("TLS handshake with " + peer_ + " failed: " + why);
        co_return false;
    }
    caps_ = EhloCapabilities{};   // RFC 3207 §4.2: forget what was offered before TLS
    co_return true;
}

asio::awaitable<bool> SmtpSession::authenticate(const std::string& user, const std::string& password) {
    core::Reply r;
    if (caps_.has_auth("PLAIN")) {
        // RFC 4954 §4 initial response; RFC 4616 message. Never logged.
        std::string line = "AUTH PLAIN " + sasl_plain(user, password) + "\r\n";
        const bool ok = co_await command(line, timeouts_.command, r);
        std::fill(line.begin(), line.end(), '\0');
        if (!ok) co_return false;
    } else if (caps_.has_auth("LOGIN")) {
        // draft-murchison-sasl-login: username and password, each after a 334.
        const bool ok6 = co_await command("AUTH LOGIN\r\n", timeouts_.command, r);
        if (!ok6) co_return false;
        if (r.code == 334) {
            const bool ok7 = co_await command(base64_encode(user) + "\r\n", timeouts_.command, r);
            if (!ok7) co_return false;
            if (r.code == 334) {
                std::string line = base64_encode(password) + "\r\n";
                const bool ok = co_await command(line, timeouts_.command, r);
                std::fill(line.begin(), line.end(), '\0');
                if (!ok) co_return false;
            }
        }
    } else {
        error_ = peer_ + " offers neither AUTH PLAIN nor AUTH LOGIN";
        co_return false;
    }
    if (r.code != 235) {
        // A 334 here means the server wants more than we have: cancel it
        // (RFC 4954 §4: "*") so the session stays in sync.
        if (r.code == 334) {
            core::Reply ignored;
            co_await command("*\r\n", timeouts_.command, ignored);
        }
        error_ = "authentication to " + peer_ + " failed: " + reply_text(r);
        co_return false;
    }
    co_return true;
}

asio::awaitable<bool> SmtpSession::rset() {
    core::Reply r;
    const bool ok8 = co_await command("RSET\r\n", timeouts_.command, r);
    if (!ok8) co_return false;
    if (r.code != 250) {
        fail("RSET refused by " + peer_ + ": " + reply_text(r));
        co_return false;
    }
    co_return true;
}

asio::awaitable<void> SmtpSession::quit() {
    if (usable_) {
        core::Reply r;
        // RFC 5321 §4.1.1.10: the server answers 221 and closes.
        co_await command("QUIT\r\n", timeouts_.quit, r);
    }
    usable_ = false;
    co_await stream_->shutdown(timeouts_.quit);
}

asio::awaitable<bool> SmtpSession::send_data(const spool::Envelope& env, std::string_view body) {
    // The prepend and the body go through one stuffer, in bounded chunks:
    // the body is never copied whole (RFC 5321 §4.5.2 transparency).
    DotStuffer stuffer;
    std::string chunk;
    chunk.reserve(kChunk + kChunk / 16);
    stuffer.feed(env.prepend, chunk);
    size_t pos = 0;
    while (pos < body.size()) {
        const size_t n = std::min(kChunk, body.size() - pos);
        stuffer.feed(body.substr(pos, n), chunk);
        pos += n;
        if (chunk.size() >= kChunk) {
            const bool ok9 = co_await send(chunk, timeouts_.data_block);
            if (!ok9) co_return false;
            chunk.clear();
        }
    }
    stuffer.finish(chunk);
    const bool ok = co_await send(chunk, timeouts_.data_block);
    co_return ok;
}

asio::awaitable<bool> SmtpSession::transaction(const spool::Envelope& env, std::string_view body,
                                               const std::vector<size_t>& rcpts,
                                               std::vector<RcptOutcome>& out, bool probe) {
    out.assign(rcpts.size(), RcptOutcome{RcptResult::transient, kNotAttempted});
    auto set_all = [&](const std::vector<size_t>& which, RcptResult res, const std::string& text) {
        for (size_t i : which) out[i] = RcptOutcome{res, text};
    };
    std::vector<size_t> all(rcpts.size());
    for (size_t i = 0; i < rcpts.size(); ++i) all[i] = i;

    const uint64_t size = env.prepend.size() + env.size;
    // RFC 8689 §4.2.1 steps 4-5: a REQUIRETLS message goes only over an
    // authenticated TLS session to a server that offers REQUIRETLS (in the
    // EHLO reply after TLS: caps_ is reset at STARTTLS), and then with the
    // REQUIRETLS parameter. Otherwise nothing is sent; permanent.
    // A DSN (null sender) of a REQUIRETLS message asks for REQUIRETLS only
    // where it can be had (RFC 8689 §5: it SHOULD NOT be discarded).
    requiretls_refused_ = false;
    bool send_requiretls = false;
    if (env.requiretls) {
        const tlspolicy::RequireTlsVerdict v =
            tlspolicy::requiretls_verdict({tls.established, tls.authenticated, caps_.requiretls});
        send_requiretls = v.ok;
        if (!v.ok && !env.sender.empty()) {
            requiretls_refused_ = true;
            set_all(all, RcptResult::permanent, local_reply(550, v.status.c_str(), v.reason + " (" + peer_ + ")"));
            co_return true;
        }
    }
    // RFC 6531 §3.2: a message that needs SMTPUTF8 must not be sent to a
    // server without it; that is a permanent failure (RFC 6533 5.6.7).
    if (env.smtputf8 && !caps_.smtputf8) {
        set_all(all, RcptResult::permanent,
                local_reply(553, "5.6.7", "message needs SMTPUTF8, which " + peer_ + " does not offer"));
        co_return true;
    }
    // RFC 1870 §6: do not send what the server said it will refuse.
    if (caps_.size && caps_.size_limit != 0 && size > caps_.size_limit) {
        set_all(all, RcptResult::permanent,
                local_reply(552, "5.3.4", "message size " + std::to_string(size) +
                                              " exceeds the limit " + std::to_string(caps_.size_limit) +
                                              " of " + peer_));
        co_return true;
    }

    std::vector<std::string> mail_params;
    if (caps_.size) mail_params.push_back("SIZE=" + std::to_string(size));
    // XXX 8-bit data to a server without 8BITMIME is sent as is (no MIME
    // downgrade, RFC 6152 §3 says we should); every home server we target
    // offers 8BITMIME.
    if (env.body_8bit && caps_.eightbitmime) mail_params.push_back("BODY=8BITMIME");
    if (env.smtputf8) mail_params.push_back("SMTPUTF8");
    if (send_requiretls) mail_params.push_back("REQUIRETLS");
    if (caps_.dsn) {
        // RFC 3461 §4.3-4.4, values stored as received (xtext).
        if (!env.ret.empty()) mail_params.push_back("RET=" + env.ret);
        if (!env.envid.empty()) mail_params.push_back("ENVID=" + env.envid);
    }
    const auto mail = mail_from_command(env.sender, mail_params);
    if (!mail) {
        set_all(all, RcptResult::permanent, local_reply(553, "5.1.7", "unsafe sender address or parameter"));
        co_return true;
    }

    std::vector<size_t> sent;          // indexes into rcpts whose RCPT was sent
    std::vector<std::string> rcpt_cmds;
    for (size_t i = 0; i < rcpts.size(); ++i) {
        if (rcpts[i] >= env.recipients.size()) {
            out[i] = RcptOutcome{RcptResult::permanent, local_reply(554, "5.3.0", "no such recipient index")};
            continue;
        }
        const auto& rc = env.recipients[rcpts[i]];
        std::vector<std::string> params;
        if (caps_.dsn && rc.notify != 0) params.push_back("NOTIFY=" + notify_param(rc.notify));
        if (caps_.dsn && !rc.orcpt.empty()) params.push_back("ORCPT=" + rc.orcpt);
        auto cmd = rcpt_to_command(rc.address, params);
        if (!cmd) {
            out[i] = RcptOutcome{RcptResult::permanent, local_reply(553, "5.1.3", "unsafe recipient address")};
            continue;
        }
        sent.push_back(i);
        rcpt_cmds.push_back(std::move(*cmd));
    }
    if (sent.empty()) co_return true;

    // The connection failed: every recipient without a final answer is
    // transient with the connection error (RFC 5321 §4.1.1.4 / RFC 1047:
    // a lost reply after "." may mean a duplicate later; never a loss).
    auto broken = [&](const std::vector<size_t>& which) {
        for (size_t i : which)
            if (out[i].reply == kNotAttempted) out[i] = RcptOutcome{RcptResult::transient, error_};
    };

    core::Reply mail_reply;
    core::Reply data_reply;
    std::vector<size_t> accepted;
    // MAIL refused: its reply is every recipient's.
    auto mail_refused = [&] {
        set_all(sent, mail_reply.code >= 500 ? RcptResult::permanent : RcptResult::transient, reply_text(mail_reply));
    };
    if (caps_.pipelining) {
        // RFC 2920 §3.1: RSET, MAIL, RCPT and DATA (last) as one group: one
        // write and one wait instead of four round trips on a reused
        // connection. The RSET proves a cached connection alive: no reply
        // to it (closed while idle, 421, timeout) means nothing of this
        // transaction was taken, and the caller retries on a new
        // connection without counting a failure.
        std::string group = probe ? "RSET\r\n" : "";
        group += *mail;
        for (const auto& c : rcpt_cmds) group += c;
        group += "DATA\r\n";
        bool ok10 = co_await send(group, timeouts_.command);
        if (probe) {
            if (!ok10) co_return false;
            core::Reply rset_reply;
            const bool got = co_await read_reply(rset_reply, timeouts_.command);
            if (!got) co_return false;
            if (rset_reply.code != 250) {
                fail("RSET refused by " + peer_ + ": " + reply_text(rset_reply));
                co_return false;
            }
        }
        if (ok10) ok10 = co_await read_reply(mail_reply, timeouts_.command);
        if (!ok10) {
            broken(sent);
            co_return true;
        }
        for (size_t k = 0; k < sent.size(); ++k) {
            core::Reply r;
            const bool ok11 = co_await read_reply(r, timeouts_.command);
            if (!ok11) {
                broken(sent);
                co_return true;
            }
            if (mail_reply.code / 100 != 2) continue;   // replies to a failed MAIL are noise
            if (r.code / 100 == 2) accepted.push_back(sent[k]);
            else out[sent[k]] = RcptOutcome{class_of(r), reply_text(r)};
        }
        const bool ok18 = co_await read_reply(data_reply, timeouts_.data_init);
        if (mail_reply.code / 100 != 2) {
            mail_refused();
            if (ok18 && data_reply.code == 354) {
                // Never an empty message: the session is dropped instead.
                fail("354 to DATA after a refused MAIL from " + peer_);
                abort();
            }
            co_return true;
        }
        if (!ok18) {
            broken(accepted);
            co_return true;
        }
        if (accepted.empty()) {
            // The server should have refused DATA (RFC 2920 §3.1); one that
            // did not gets no message: the session is dropped instead.
            if (data_reply.code == 354) {
                fail("354 to DATA with no accepted recipient from " + peer_);
                abort();
            }
            co_return true;
        }
    } else {
        if (probe) {
            const bool alive = co_await rset();
            if (!alive) co_return false;
        }
        const bool ok12 = co_await command(*mail, timeouts_.command, mail_reply);
        if (!ok12) {
            broken(sent);
            co_return true;
        }
        if (mail_reply.code / 100 != 2) {
            mail_refused();
            co_return true;
        }
        for (size_t k = 0; k < sent.size(); ++k) {
            core::Reply r;
            const bool ok13 = co_await command(rcpt_cmds[k], timeouts_.command, r);
            if (!ok13) {
                broken(sent);
                co_return true;
            }
            if (r.code / 100 == 2) accepted.push_back(sent[k]);
            else out[sent[k]] = RcptOutcome{class_of(r), reply_text(r)};
        }
        if (accepted.empty()) co_return true;
        const bool ok14 = co_await command("DATA\r\n", timeouts_.data_init, data_reply);
        if (!ok14) {
            broken(accepted);
            co_return true;
        }
    }
    // Both ways end here with DATA answered and at least one recipient.
    if (data_reply.code != 354) {
        set_all(accepted, class_of(data_reply), reply_text(data_reply));
        co_return true;
    }
    const bool ok20 = co_await finish_data(env, body, accepted, out);
    co_return ok20;
}

// After a 354: the message, then its reply (SMTP) or one reply per
// accepted recipient (LMTP). Always true: the transaction happened.
asio::awaitable<bool> SmtpSession::finish_data(const spool::Envelope& env, std::string_view body,
                                               const std::vector<size_t>& accepted,
                                               std::vector<RcptOutcome>& out) {
    auto set_all = [&](const std::vector<size_t>& which, RcptResult res, const std::string& text) {
        for (size_t i : which) out[i] = RcptOutcome{res, text};
    };
    auto broken = [&](const std::vector<size_t>& which) {
        for (size_t i : which)
            if (out[i].reply == kNotAttempted) out[i] = RcptOutcome{RcptResult::transient, error_};
    };
    core::Reply r;
    const bool ok15 = co_await send_data(env, body);
    if (!ok15) {
        broken(accepted);
        co_return true;
    }
    if (!lmtp_) {
        // RFC 5321 §4.1.1.4: one reply for the whole message.
        const bool ok16 = co_await read_reply(r, timeouts_.data_done);
        if (!ok16) {
            broken(accepted);
            co_return true;
        }
        const RcptResult res = r.code / 100 == 2 ? RcptResult::delivered : class_of(r);
        set_all(accepted, res, reply_text(r));
        co_return true;
    }
    // RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
    for (size_t k = 0; k < accepted.size(); ++k) {
        const bool ok17 = co_await read_reply(r, timeouts_.data_done);
        if (!ok17) {
            broken(std::vector<size_t>(accepted.begin() + static_cast<long>(k), accepted.end()));
            co_return true;
        }
        out[accepted[k]] = RcptOutcome{r.code / 100 == 2 ? RcptResult::delivered : class_of(r), reply_text(r)};
    }
    co_return true;
}

}  // namespace mxgate::client
