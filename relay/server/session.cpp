// The SMTP server session: command loop and the commands other than
// DATA/BDAT (those are in session_data.cpp).
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>

#include "relay/core/resolver.hpp"
#include "relay/queue/queue_manager.hpp"
#include "relay/server/session.hpp"
#include "relay/server/session_impl.hpp"
#include "relay/smtp/address_class.hpp"
#include "relay/smtp/ascii.hpp"
#include "relay/smtp/recipient_policy.hpp"
#include "relay/smtp/replies.hpp"

namespace mxgate::server {

namespace asio = boost::asio;
namespace replies = smtp::replies;
using core::Event;
using core::Field;
using smtp::Verb;

namespace {

// Postfix's smtpd_hard_error_limit is 20; a client that keeps sending
// garbage gets cut off well before it can use the session as a probe.
constexpr int kMaxErrors = 20;
constexpr size_t kMaxCommandBuffer = 64 * 1024;

std::string session_id(uint64_t n) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "S%010llX", static_cast<unsigned long long>(n));
    return buf;
}

const conf::Listener& find_listener(const conf::Config& cfg, const std::string& name) {
    for (const auto& l : cfg.listeners)
        if (l.name == name) return l;
    return cfg.listeners.front();  // reload removed it: use the first
}

}  // namespace

asio::awaitable<void> run_session(Runtime& rt, std::shared_ptr<const Snapshot> snap, std::string listener_name,
                                  asio::ip::tcp::socket sock, ConnectionLimits::Slot slot) {
    const conf::Listener& l = find_listener(*snap->config, listener_name);
    Session s(rt, snap, l, std::move(sock));
    co_await s.run();
}

Session::Session(Runtime& rt, std::shared_ptr<const Snapshot> snap, const conf::Listener& listener,
                 asio::ip::tcp::socket sock)
    : rt_(rt), snap_(std::move(snap)), cfg_(*snap_->config), listener_(listener), stream_(std::move(sock)),
      id_(session_id(rt.next_session++)) {}

Event Session::event(const char* name) const {
    Event e(name);
    e.set(Field::session, id_).set(Field::client, stream_.remote_ip());
    return e;
}

void Session::reply(const core::Reply& r) { out_ += r.format(); }

asio::awaitable<bool> Session::flush() {
    if (out_.empty()) co_return true;
    std::string data;
    data.swap(out_);
    const auto ec = co_await stream_.write(data, cfg_.limits.timeouts.command);
    co_return !ec;
}

void Session::reject_event(const core::Reply& r, const std::string& reason) {
    rt_.events->emit(event("policy.reject")
                         .set(Field::helo, helo_)
                         .set(Field::sender, tx_.sender)
                         .set(Field::code, std::to_string(r.code))
                         .set(Field::reason, reason));
}

void Session::reset_transaction() {
    if (tx_.writer) tx_.writer->abort();
    tx_ = Transaction{};
}

bool Session::starttls_offered() const {
    return listener_.tls == conf::ListenerTls::starttls && !stream_.tls_active() && tls_context();
}

asio::awaitable<void> Session::run() {
    if (lab()) lab_start();
    rt_.events->emit(event("session.open")
                         .set(Field::listener, listener_.name)
                         .set(Field::role, lab() ? "lab" : submission() ? "submission" : "mx"));
    bool ok = true;
    if (listener_.tls == conf::ListenerTls::implicit) ok = co_await start_implicit_tls();
    if (ok) {
        bool admitted = true;
        if (!rt_.draining) admitted = co_await connect_policy();
        if (!admitted) {
            // connect_policy() answered (DNSBL: 554 5.7.1) and the session ends.
        } else if (rt_.draining) {
            reply(replies::shutting_down());
            co_await flush();
        } else {
            reply(replies::greeting(cfg_.hostname));
            co_await command_loop();
        }
    }
    co_await stream_.shutdown(std::chrono::seconds(5));
    if (lab()) lab_close();
    rt_.events->emit(event("session.close").set(Field::helo, helo_).set(Field::count, messages_));
}

asio::awaitable<bool> Session::start_implicit_tls() {
    const tlspolicy::ContextPtr ctx = tls_context();
    if (!ctx) co_return false;
    const auto ec = co_await stream_.handshake_server(*ctx, cfg_.limits.timeouts.tls_handshake);
    if (lab()) lab_tls_done(!ec);
    if (ec) {
        const std::string no_helo;  // implicit TLS: nothing said before the handshake
        auto failed = handshake_failed(no_helo);  // named: co_await temporaries (docs/design.md)
        co_await std::move(failed);
        co_return false;
    }
    handshake_done("");
    co_return true;
}

asio::awaitable<void> Session::command_loop() {
    while (!quit_) {
        const smtp::Frame f = framer_.next(stream_.buffered());
        if (f.status == smtp::FrameStatus::need_more) {
            stream_.consume(f.consumed);
            // RFC 2920 §3.1: reply to a pipelined group only once its input is used up.
            if (!co_await flush()) co_return;
            const auto ec = co_await stream_.fill(cfg_.limits.timeouts.command, kMaxCommandBuffer);
            if (ec == asio::error::timed_out) {
                reply(replies::timeout());
                co_await flush();
                rt_.events->emit(event("session.timeout").set(Field::helo, helo_));
                co_return;
            }
            if (ec) co_return;  // peer left
            continue;
        }
        const std::string line(f.line);
        stream_.consume(f.consumed);
        if (f.is_error()) {
            reply(replies::frame_error(f.status));
            ++errors_;
        } else if (line.size() + 2 > smtp::kMaxCommandLine && !smtp::ascii::istarts_with(line, "AUTH ")) {
            // Framed at the AUTH size (RFC 4954 §4); every other command keeps RFC 5321's 512.
            reply(replies::frame_error(smtp::FrameStatus::too_long));
            ++errors_;
        } else {
            const auto parsed = smtp::parse_command(line);
            co_await dispatch(parsed);
        }
        if (errors_ >= kMaxErrors) {
            reply(core::Reply(421, "4.7.0", cfg_.hostname + " Error: too many errors"));
            break;
        }
        if (rt_.draining && !tx_.active) {
            reply(replies::shutting_down());
            break;
        }
    }
    co_await flush();
}

asio::awaitable<void> Session::dispatch(const smtp::ParseResult& p) {
    const smtp::Command& c = p.command;
    if (!p.ok()) {
        reply(replies::parse_error(p));
        ++errors_;
        co_return;
    }
    switch (c.verb) {
        case Verb::helo: on_helo(c, false); break;
        case Verb::ehlo: on_helo(c, true); break;
        case Verb::mail: {
            const bool tls_ok = co_await mail_tls_gate(c);  // require_tls (SPEC §7), session_tls.cpp
            if (tls_ok) on_mail(c);
            break;
        }
        case Verb::rcpt: co_await on_rcpt_policy(c); break;
        case Verb::data:
            if (lab()) co_await lab_data();
            else co_await on_data();
            break;
        case Verb::bdat:
            if (lab()) lab_bdat();  // never spooled, and not offered
            else co_await on_bdat(c);
            break;
        case Verb::rset:
            reset_transaction();
            reply(replies::ok());
            break;
        case Verb::noop: reply(replies::ok()); break;
        case Verb::quit:
            reply(replies::bye());
            quit_ = true;
            break;
        case Verb::help: reply(replies::help()); break;
        case Verb::vrfy:
        case Verb::expn: reply(replies::not_implemented(c.verb)); break;
        case Verb::starttls: co_await on_starttls(c); break;
        case Verb::etrn: co_await on_etrn(c); break;
        case Verb::auth:  // session_auth.cpp; session_lab.cpp on a lab
            if (lab()) co_await lab_auth(c);
            else co_await on_auth(c);
            break;
        case Verb::unknown:
            reply(replies::parse_error(p));
            ++errors_;
            break;
    }
}

void Session::on_helo(const smtp::Command& c, bool extended) {
    const auto& a = std::get<smtp::HeloArgs>(c.args);
    reset_transaction();  // RFC 5321 §4.1.4: EHLO/HELO reset the transaction
    helo_ = a.domain;
    esmtp_ = extended;
    if (!extended) {
        reply(replies::helo(cfg_.hostname));
        return;
    }
    replies::EhloCaps caps;
    caps.size = cfg_.limits.message_size;
    caps.starttls = starttls_offered();
    caps.etrn = true;
    caps.auth = auth_offered();
    caps.requiretls = requiretls_offered();  // session_requiretls.cpp
    if (lab()) lab_caps(caps);
    reply(replies::ehlo(cfg_.hostname, caps));
}

void Session::on_mail(const smtp::Command& c) {
    if (helo_.empty()) {
        reply(replies::need_helo());
        return;
    }
    if (tx_.active) {
        reply(replies::nested_mail());
        return;
    }
    const auto& a = std::get<smtp::PathArgs>(c.args);
    if (submission() && !submission_may_mail(a)) return;
    if (!requiretls_may_mail(a)) return;  // session_requiretls.cpp
    if (a.params.size && *a.params.size > cfg_.limits.message_size) {
        const auto r = replies::size_exceeded_declared();
        reject_event(r, "declared SIZE exceeds limits.message_size");
        reply(r);
        return;
    }
    if (a.path.utf8 && !a.params.smtputf8) {
        reply(replies::smtputf8_required());
        return;
    }
    tx_.active = true;
    tx_.sender = a.path.null ? std::string() : a.path.address();
    if (lab()) lab_mail(tx_.sender);
    tx_.params = a.params;
    reply(replies::sender_ok());
}

void Session::on_rcpt(const smtp::Command& c) {
    if (!tx_.active) {
        reply(replies::need_mail());
        return;
    }
    const auto& a = std::get<smtp::PathArgs>(c.args);
    if (static_cast<int>(tx_.rcpts.size()) >= cfg_.limits.recipients) {
        reply(replies::too_many_recipients());
        return;
    }
    if (a.path.utf8 && !tx_.params.smtputf8) {
        reply(replies::smtputf8_required());
        return;
    }
    if (lab()) {  // a lab accepts every recipient: it discards the message anyway
        tx_.rcpts.push_back(spool::Recipient{a.path.address()});
        reply(replies::recipient_ok());
        return;
    }
    const auto d = submission() ? submission_recipient(a.path) : smtp::check_recipient(cfg_, a.path);
    if (!d.accepted()) {
        std::string reason = d.kind == smtp::RecipientDecision::Kind::unknown_user ? "unknown recipient"
                                                                                   : "relay access denied";
        if (d.relay_forms) reason += " (" + smtp::relay_form_names(d.relay_forms) + ")";
        rt_.events->emit(event("policy.reject")
                             .set(Field::helo, helo_)
                             .set(Field::sender, tx_.sender)
                             .set(Field::recipient, a.path.address())
                             .set(Field::code, std::to_string(d.reply.code))
                             .set(Field::reason, reason));
        reply(d.reply);
        ++errors_;
        return;
    }
    if (!requiretls_may_rcpt(d.domain)) {  // session_requiretls.cpp
        ++errors_;
        return;
    }
    spool::Recipient r;
    r.address = a.path.postmaster && d.domain ? "postmaster@" + d.domain->name : a.path.address();
    if (a.params.orcpt) r.orcpt = *a.params.orcpt;
    for (const auto& n : a.params.notify) {  // upper-cased and validated by the parser
        if (n == "NEVER") r.notify |= spool::notify::never;
        else if (n == "SUCCESS") r.notify |= spool::notify::success;
        else if (n == "FAILURE") r.notify |= spool::notify::failure;
        else if (n == "DELAY") r.notify |= spool::notify::delay;
    }
    tx_.rcpts.push_back(std::move(r));
    reply(d.reply);
}

asio::awaitable<void> Session::on_starttls(const smtp::Command& c) {
    if (stream_.tls_active()) {
        reply(replies::tls_already_active());
        co_return;
    }
    if (lab()) {
        const bool handled = co_await lab_starttls();
        if (handled) co_return;
    }
    if (!starttls_offered()) {
        reply(replies::not_implemented(Verb::starttls));
        co_return;
    }
    reply(replies::starttls_ready());
    if (!co_await flush()) co_return;
    // RFC 3207 §4.2: the handshake discards anything pipelined after STARTTLS,
    // and the session starts over: no HELO, no transaction.
    const tlspolicy::ContextPtr ctx = tls_context();
    const auto ec = co_await stream_.handshake_server(*ctx, cfg_.limits.timeouts.tls_handshake);
    if (lab()) lab_tls_done(!ec);
    const std::string helo_before = helo_;
    reset_transaction();
    helo_.clear();
    esmtp_ = false;
    framer_.reset();
    if (ec) {
        auto failed = handshake_failed(helo_before);  // named: co_await temporaries (docs/design.md)
        co_await std::move(failed);
        quit_ = true;
        co_return;
    }
    handshake_done(helo_before);
}

// ETRN (RFC 1985): the home box, back online, asks for its mail now. Only
// the downstream's own address may ask, so a stranger cannot make us hammer
// a home box or learn whether mail is waiting.
asio::awaitable<void> Session::on_etrn(const smtp::Command& c) {
    if (helo_.empty()) {
        reply(replies::need_helo());
        co_return;
    }
    if (tx_.active) {
        reply(core::Reply(503, "5.5.1", "Error: ETRN inside a mail transaction"));
        co_return;
    }
    const auto& a = std::get<smtp::EtrnArgs>(c.args);
    const conf::Domain* d = a.kind == smtp::EtrnArgs::Kind::queue ? nullptr : cfg_.find_domain(a.name);
    if (!d) {
        reply(core::Reply(459, "4.7.1", "Node " + a.name + " not allowed: not a relayed domain"));
        co_return;
    }
    bool allowed = false;
    std::string host = d->downstream.address.host;
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    if (asio::ip::make_address(host, ec); !ec) {
        allowed = asio::ip::make_address(host).to_string() == stream_.remote_ip();
    } else {
        // The home box's name is resolved now: its address may have changed.
        for (auto lookup : {&core::lookup_a, &core::lookup_aaaa}) {
            auto op = lookup(*rt_.resolver, host);  // named: GCC 12 co_await temporaries
            const auto r = co_await std::move(op);
            for (const auto& ip : r.records)
                if (ip == stream_.remote_ip()) allowed = true;
        }
    }
    if (!allowed) {
        rt_.events->emit(event("policy.reject")
                             .set(Field::helo, helo_)
                             .set(Field::domain, d->name)
                             .set(Field::code, "459")
                             .set(Field::reason, "ETRN from an address that is not the downstream's"));
        reply(core::Reply(459, "4.7.1", "Node " + d->name + " not allowed: client is not its downstream"));
        co_return;
    }
    const size_t n = rt_.queue ? rt_.queue->flush_domain(d->name) : 0;
    rt_.events->emit(event("queue.flush").set(Field::domain, d->name).set(Field::count, static_cast<int64_t>(n)));
    if (n == 0)
        reply(core::Reply(251, "2.0.0", "OK no messages waiting for node " + d->name));
    else
        reply(core::Reply(253, "2.0.0", "OK " + std::to_string(n) + " pending messages for node " + d->name + " started"));
}

}  // namespace mxgate::server
