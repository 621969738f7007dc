// relay/server/session_lab.cpp — the `lab` listener role (SPEC §3, §8): a
// deliberately weak or hostile server for testing *clients and senders*.
// docs/lab.md is the user's guide.
//
// lab.starttls:
//   strip           STARTTLS is not advertised; a STARTTLS sent anyway gets
//                   502 5.5.1
//   refuse-454      advertised, answered 454 4.7.0
//   fail-handshake  advertised, 220, then the ClientHello is answered with a
//                   fatal handshake_failure alert and the connection closed
//   offer           a real handshake with lab.protocols / lab.certificate
// lab.auth_trap: AUTH PLAIN LOGIN advertised before (and after) TLS; the
//   credentials are read, the user name recorded, the password dropped
//   unread and never checked; the answer is always 535 5.7.8.
//
// Every client behaviour is one `lab.client` event: `result` is a stable
// key (list in docs/lab.md), `reason` a sentence naming the client. MAIL
// and every RCPT are accepted; at the end of DATA the message is read to
// its end and DISCARDED, answered 554 5.7.0 — a lab listener never spools
// or relays anything.
//
// SECURITY: passwords never reach an event or a log: the decoded SASL
// buffer is wiped, and only the authentication identity is kept.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "relay/server/session_impl.hpp"
#include "relay/smtp/replies.hpp"

namespace mxgate::server {

namespace asio = boost::asio;
using core::Event;
using core::Field;
using StartTls = conf::LabConfig::StartTls;

struct Session::LabState {
    conf::LabConfig cfg;
    bool starttls_refused = false;  // this session: stripped (asked anyway), 454, failed handshake
    bool mail_seen = false;
    bool auth_seen = false;
    std::string last;  // what happened last, for the session summary
};

namespace {

const char* mode_name(StartTls m) {
    switch (m) {
        case StartTls::strip: return "strip";
        case StartTls::refuse_454: return "refuse-454";
        case StartTls::fail_handshake: return "fail-handshake";
        case StartTls::offer: return "offer";
    }
    return "offer";
}

const char* certificate_name(conf::LabConfig::Certificate c) {
    switch (c) {
        case conf::LabConfig::Certificate::expired: return "expired";
        case conf::LabConfig::Certificate::self_signed: return "self-signed";
        case conf::LabConfig::Certificate::wrong_name: return "wrong-name";
        case conf::LabConfig::Certificate::valid: return "valid";
    }
    return "valid";
}

// RFC 4648 base64; nullopt on anything else (SASL responses are strict).
std::optional<std::string> base64_decode(std::string_view in) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    if (in.size() % 4 != 0) return std::nullopt;
    std::string out;
    for (size_t i = 0; i < in.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = in[i + k];
            if (c == '=' && i + 4 == in.size() && k >= 2) {
                v[k] = 0;
                ++pad;
            } else if (pad > 0 || (v[k] = value(c)) < 0) {
                return std::nullopt;
            }
        }
        const uint32_t n = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
        out += static_cast<char>(n >> 16);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(n & 0xff);
    }
    return out;
}

void wipe(std::string& s) {
    std::fill(s.begin(), s.end(), '\0');
    s.clear();
}

// Peer text for an event: printable ASCII, bounded.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 256)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

}  // namespace

tlspolicy::ContextPtr Session::tls_context() const {
    if (!lab()) return snap_->server_tls_for(listener_);  // tls_profile or tls.inbound
    const auto it = snap_->lab_tls.find(listener_.name);
    return it == snap_->lab_tls.end() ? nullptr : it->second;
}

void Session::lab_start() {
    lab_ = std::make_shared<LabState>();
    lab_->cfg = listener_.lab.value_or(conf::LabConfig{});
}

void Session::lab_event(const char* result, const std::string& reason) {
    lab_->last = result;
    rt_.events->emit(event("lab.client")
                         .set(Field::listener, listener_.name)
                         .set(Field::helo, helo_)
                         .set(Field::result, result)
                         .set(Field::mode, mode_name(lab_->cfg.starttls))
                         .set(Field::tls, stream_.tls_active())
                         .set(Field::reason, "client " + stream_.remote_ip() + " " + reason));
}

void Session::lab_caps(smtp::replies::EhloCaps& caps) const {
    caps.etrn = false;
    caps.chunking = false;  // DATA only: the lab reads and discards one way
    if (lab_->cfg.starttls == StartTls::strip) caps.starttls = false;
    if (lab_->cfg.auth_trap) caps.auth = {"PLAIN", "LOGIN"};
}

asio::awaitable<bool> Session::lab_starttls() {
    const StartTls mode = lab_->cfg.starttls;
    if (mode == StartTls::offer || (listener_.tls == conf::ListenerTls::implicit)) co_return false;
    lab_->starttls_refused = true;
    if (mode == StartTls::strip) {
        lab_event("starttls_unoffered", "sent STARTTLS although it was not advertised (stripped); answered 502");
        reply(smtp::replies::not_implemented(smtp::Verb::starttls));
        co_return true;
    }
    if (mode == StartTls::refuse_454) {
        rt_.lab_memory.remember(stream_.remote_ip(), "STARTTLS was refused with 454", "");
        lab_event("starttls_refused", "sent STARTTLS and was refused with 454");
        reply(core::Reply(454, "4.7.0", "TLS not available due to temporary reason"));
        co_return true;
    }
    // fail-handshake: promise TLS, then answer the ClientHello with a fatal
    // handshake_failure alert (RFC 8446 §6.2; record version 3.1 as the
    // first ClientHello record uses) and hang up.
    reply(smtp::replies::starttls_ready());
    const bool flushed = co_await flush();
    if (!flushed) co_return true;
    stream_.discard_buffer();
    const auto ec = co_await stream_.fill(cfg_.limits.timeouts.tls_handshake, 64 * 1024);
    const bool hello = !ec && !stream_.buffered().empty() && stream_.buffered()[0] == 0x16;
    static constexpr char kAlert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28};
    const std::string alert(kAlert, sizeof kAlert);
    if (!ec) co_await stream_.write(alert, std::chrono::seconds(5));
    rt_.lab_memory.remember(stream_.remote_ip(), "the TLS handshake failed", "handshake_failure alert");
    lab_event("handshake_failed", hello ? "sent a ClientHello; the lab failed the handshake on purpose"
                                        : "sent no ClientHello after 220 to STARTTLS");
    quit_ = true;
    co_return true;
}

void Session::lab_tls_done(bool ok) {
    const std::string cert = certificate_name(lab_->cfg.certificate);
    if (!ok) {
        const std::string err = stream_.last_tls_error();
        rt_.lab_memory.remember(stream_.remote_ip(), "it aborted the TLS handshake", err);
        rt_.events->emit(event("lab.client")
                             .set(Field::listener, listener_.name)
                             .set(Field::helo, helo_)
                             .set(Field::result, "tls_aborted")
                             .set(Field::mode, mode_name(lab_->cfg.starttls))
                             .set(Field::error, err)
                             .set(Field::reason, "client " + stream_.remote_ip() + " did not complete the TLS handshake (" +
                                                     cert + " certificate served): " + err));
        lab_->last = "tls_aborted";
        return;
    }
    const auto info = tlspolicy::describe(stream_.native_ssl());
    rt_.events->emit(event("lab.client")
                         .set(Field::listener, listener_.name)
                         .set(Field::result, "tls_established")
                         .set(Field::mode, mode_name(lab_->cfg.starttls))
                         .set(Field::tls_version, info.version)
                         .set(Field::cipher, info.cipher)
                         .set(Field::reason, "client " + stream_.remote_ip() + " completed a " + info.version +
                                                 " handshake with the " + cert + " certificate"));
    lab_->last = "tls_established";
    if (lab_->cfg.certificate != conf::LabConfig::Certificate::valid)
        lab_event("accepted_bad_certificate", "accepted the " + cert + " certificate and went on over TLS");
    if (info.version == "TLSv1" || info.version == "TLSv1.1")
        lab_event("accepted_old_protocol", "negotiated " + info.version);
}

void Session::lab_mail(const std::string& sender) {
    lab_->mail_seen = true;
    const std::string who = "MAIL FROM:<" + printable(sender) + ">";
    if (stream_.tls_active()) {
        lab_event("mail_over_tls", "sent " + who + " over TLS");
        return;
    }
    const auto earlier = rt_.lab_memory.recent(stream_.remote_ip());
    if (lab_->cfg.starttls == StartTls::strip)
        lab_event("plaintext_after_strip", "continued in plaintext with " + who + " (STARTTLS was stripped)");
    else if (lab_->starttls_refused)
        lab_event("plaintext_after_refusal", "continued in plaintext with " + who + " after STARTTLS was refused");
    else if (earlier)
        lab_event("plaintext_retry", "came back in plaintext with " + who + " after " + earlier->what +
                                         (earlier->error.empty() ? "" : " (" + earlier->error + ")"));
    else if (listener_.tls == conf::ListenerTls::starttls)
        lab_event("plaintext_mail", "sent " + who + " in plaintext although STARTTLS was offered");
    else
        lab_event("plaintext_mail", "sent " + who + " in plaintext");
}

asio::awaitable<std::optional<std::string>> Session::lab_read_line() {
    for (;;) {
        const smtp::Frame f = framer_.next(stream_.buffered());
        if (f.status == smtp::FrameStatus::need_more) {
            stream_.consume(f.consumed);
            const bool flushed = co_await flush();
            if (!flushed) co_return std::nullopt;
            const auto ec = co_await stream_.fill(cfg_.limits.timeouts.command, 64 * 1024);
            if (ec) co_return std::nullopt;
            continue;
        }
        std::string line(f.line);
        stream_.consume(f.consumed);
        if (f.is_error()) co_return std::nullopt;
        co_return line;
    }
}

asio::awaitable<void> Session::lab_auth(const smtp::Command& c) {
    const auto& a = std::get<smtp::AuthArgs>(c.args);
    lab_->auth_seen = true;
    const std::string mech = printable(a.mechanism);
    if (!lab_->cfg.auth_trap) {
        lab_event("auth_unoffered", "sent AUTH " + mech + " although AUTH was not advertised");
        reply(smtp::replies::auth_not_available());
        co_return;
    }
    if (mech != "PLAIN" && mech != "LOGIN") {
        lab_event("auth_other", "sent AUTH " + mech);
        reply(core::Reply(504, "5.5.4", "Unrecognized authentication type"));
        co_return;
    }
    std::string user;
    bool password_sent = false;
    bool cancelled = false;
    if (mech == "PLAIN") {
        std::string response = a.initial_response.value_or("");
        if (!a.initial_response) {
            reply(core::Reply(334, "", ""));
            auto op = lab_read_line();
            auto line = co_await std::move(op);
            if (!line) co_return;
            response = *line;
        }
        if (response == "=") response.clear();
        cancelled = response == "*";
        if (!cancelled) {
            auto decoded = base64_decode(response);
            wipe(response);
            if (decoded) {
                // RFC 4616: authzid NUL authcid NUL passwd
                const size_t n1 = decoded->find('\0');
                const size_t n2 = n1 == std::string::npos ? n1 : decoded->find('\0', n1 + 1);
                if (n2 != std::string::npos) {
                    user = decoded->substr(n1 + 1, n2 - n1 - 1);
                    password_sent = n2 + 1 < decoded->size();
                }
                wipe(*decoded);
            }
        }
    } else {
        std::string u64 = a.initial_response.value_or("");
        if (!a.initial_response) {
            reply(core::Reply(334, "", "VXNlcm5hbWU6"));  // "Username:"
            auto op = lab_read_line();
            auto line = co_await std::move(op);
            if (!line) co_return;
            u64 = *line;
        }
        cancelled = u64 == "*";
        if (!cancelled) {
            if (auto d = base64_decode(u64)) user = *d;
            reply(core::Reply(334, "", "UGFzc3dvcmQ6"));  // "Password:"
            auto op = lab_read_line();
            auto line = co_await std::move(op);
            if (!line) co_return;
            cancelled = *line == "*";
            password_sent = !cancelled && !line->empty();
            wipe(*line);
        }
    }
    if (cancelled && !password_sent) {
        // RFC 4954 §4: "*" cancels; a user name may already have been given.
        lab_event("auth_cancelled", "started AUTH " + mech + (user.empty() ? "" : " as \"" + printable(user) + "\"") +
                                        " and cancelled it before sending a password");
        reply(core::Reply(501, "5.7.0", "Authentication aborted"));
        co_return;
    }
    const std::string shown = printable(user);
    const bool tls = stream_.tls_active();
    rt_.events->emit(event("lab.client")
                         .set(Field::listener, listener_.name)
                         .set(Field::helo, helo_)
                         .set(Field::result, tls ? "credentials_over_tls" : "cleartext_credentials")
                         .set(Field::mode, mode_name(lab_->cfg.starttls))
                         .set(Field::tls, tls)
                         .set(Field::user, shown)
                         .set_null(Field::valid)  // never checked
                         .set(Field::reason, "client " + stream_.remote_ip() + " sent credentials " +
                                                 (tls ? "over TLS" : "in cleartext") + " (AUTH " + mech + ", user \"" +
                                                 shown + "\"" + (password_sent ? ", with a password" : ", no password") +
                                                 "); not checked"));
    lab_->last = tls ? "credentials_over_tls" : "cleartext_credentials";
    reply(core::Reply(535, "5.7.8", "Authentication credentials invalid"));
}

asio::awaitable<void> Session::lab_data() {
    if (!tx_.active) {
        reply(smtp::replies::need_mail());
        co_return;
    }
    if (tx_.rcpts.empty()) {
        reply(smtp::replies::no_valid_recipients());
        co_return;
    }
    reply(smtp::replies::start_data());
    const bool flushed = co_await flush();
    if (!flushed) co_return;
    smtp::DataReader reader(smtp::DataReader::Mode::data, static_cast<size_t>(cfg_.limits.line_length),
                            cfg_.limits.message_size);
    std::string discard;
    for (;;) {
        const auto res = reader.feed(stream_.buffered(), discard);
        stream_.consume(res.consumed);
        discard.clear();  // a lab never keeps a message
        if (res.done) break;
        const auto ec = co_await stream_.fill(cfg_.limits.timeouts.data_block, 1 << 20);
        if (ec) {
            quit_ = true;
            co_return;
        }
    }
    const auto& rep = reader.report();
    lab_event("sent_message", "sent a message of " + std::to_string(rep.size) + " octets " +
                                  (stream_.tls_active() ? "over TLS" : "in plaintext") + " (discarded)");
    reset_transaction();
    reply(core::Reply(554, "5.7.0", "lab listener: message discarded, never relayed"));
}

// CHUNKING is not offered on a lab. A BDAT chunk that follows anyway would
// be read as commands: refuse and hang up instead.
void Session::lab_bdat() {
    lab_event("bdat_unoffered", "sent BDAT although CHUNKING was not advertised; connection closed");
    reply(core::Reply(502, "5.5.1", "BDAT not offered on a lab listener"));
    quit_ = true;
}

void Session::lab_close() {
    if (!lab_->mail_seen && !lab_->auth_seen)
        lab_event("left_without_mail", "disconnected without sending mail" +
                                           (lab_->last.empty() ? std::string() : " (last: " + lab_->last + ")"));
}

}  // namespace mxgate::server
