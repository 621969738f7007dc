// The SMTP server session on submission listeners (SPEC §5, RFC 4954,
// RFC 8314): the AUTH command, the TLS-first rules, and the MAIL/RCPT rules
// for authenticated mail.
//
// Before TLS nothing secret is ever asked for: EHLO lists no AUTH, AUTH
// without an initial response and MAIL get 530 5.7.0. A client that sends
// credentials anyway gets 538 5.7.11 after a fixed delay, whatever they
// were; mxgate only judges them (off the I/O thread) to report the exposure
// and, with on_cleartext_credentials: lock, lock an account whose correct
// password leaked. AUTH LOGIN before TLS is answered 538 at once, before a
// password can be sent.
//
// After TLS, the exchange runs in libsasl2 on the auth pool; a fresh
// SaslConn per AUTH command, so a failed or cancelled exchange leaves
// nothing behind. The user is admitted (lockout, cleartext lock, networks)
// when the mechanism names it, before the secret is checked.
//
// SECURITY: response lines are passwords. They are decoded into local
// strings that are wiped after use, and no event carries them.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>

#include "auth/auth.hpp"
#include "dmarc/address_parser.hpp"
#include "dmarc/header_fields.hpp"
#include "relay/core/offload.hpp"
#include "relay/server/session_impl.hpp"
#include "relay/smtp/address_class.hpp"
#include "relay/smtp/replies.hpp"

namespace mxgate::server {

namespace asio = boost::asio;
namespace replies = smtp::replies;
using core::Event;
using core::Field;

namespace {

// Credentials sent before TLS are answered after this delay, measured from
// the command, however long judging them took (no timing oracle).
constexpr auto kCleartextDelay = std::chrono::seconds(1);
constexpr size_t kMaxResponseBuffer = 64 * 1024;

std::string network_of_client(const std::string& ip) { return auth::network_of(ip); }

}  // namespace

std::vector<std::string> Session::auth_offered() const {
    // One predicate for advertising and accepting (STYLE §2): submission,
    // TLS active, the runtime has the auth service.
    if (!submission() || !stream_.tls_active() || !rt_.auth) return {};
    return rt_.auth->mechanisms(snap_->config);
}

asio::awaitable<void> Session::on_auth(const smtp::Command& c) {
    if (!submission() || !rt_.auth) {
        // SPEC §4: AUTH is never advertised nor accepted on the mx listener.
        reply(replies::auth_not_available());
        ++errors_;
        co_return;
    }
    const auto& a = std::get<smtp::AuthArgs>(c.args);
    if (!auth_user_.empty()) {
        reply(replies::already_authenticated());
        co_return;
    }
    // Credentials sent in cleartext are judged whatever came before (no
    // HELO, HELO instead of EHLO, inside a transaction): the password has
    // crossed the network either way (SPEC §5).
    if (!stream_.tls_active()) {
        co_await auth_before_tls(a);
        co_return;
    }
    if (!esmtp_) {
        reply(helo_.empty() ? replies::need_helo() : replies::auth_needs_ehlo());
        co_return;
    }
    if (tx_.active) {
        reply(replies::auth_in_transaction());
        co_return;
    }
    const std::vector<std::string> mechs = auth_offered();
    if (std::find(mechs.begin(), mechs.end(), a.mechanism) == mechs.end()) {
        reply(replies::auth_mechanism_unsupported());
        ++errors_;
        co_return;
    }
    auth::Service& svc = *rt_.auth;
    const std::string client = stream_.remote_ip();
    const std::string network = network_of_client(client);
    const std::optional<auth::IpAddress> ip = auth::parse_ip(client);
    if (!ip) {
        reply(replies::auth_temporary_failure());
        co_return;
    }
    if (svc.lockout().address_locked(client, auth::Lockout::Clock::now())) {
        rt_.events->emit(event("auth.locked")
                             .set(Field::network, network)
                             .set(Field::reason, "client address locked after failed authentications"));
        reply(replies::auth_locked());
        co_return;
    }

    std::optional<std::string> initial;
    if (a.initial_response) {
        auth::SaslResponse r = auth::decode_sasl_response(*a.initial_response, true);
        if (r.kind == auth::SaslResponse::Kind::cancel) {
            reply(replies::auth_cancelled());
            co_return;
        }
        if (r.kind == auth::SaslResponse::Kind::malformed) {
            reply(replies::auth_bad_base64());
            ++errors_;
            co_return;
        }
        initial = std::move(r.data);
    }

    std::string error;
    const unsigned ssf = tls_ ? static_cast<unsigned>(tls_->bits) : 0;
    std::unique_ptr<auth::SaslConn> conn = auth::SaslConn::open(auth::Service::options(cfg_, ssf), error);
    if (!conn) {
        rt_.events->emit(event("auth.unavailable").set(Field::error, error));
        if (initial) auth::wipe(*initial);
        reply(replies::auth_temporary_failure());
        co_return;
    }
    // Filled on the pool thread by the gate, read here after the await.
    auto admission = std::make_shared<auth::Admission>();
    conn->set_gate([&svc, cfg = snap_->config, ip = *ip, admission](const std::string& user) {
        *admission = svc.admit(cfg->auth, user, ip, auth::Lockout::Clock::now());
        return admission->kind == auth::Admission::Kind::ok;
    });

    auth::SaslConn* cp = conn.get();
    auto start_job = [cp, mech = a.mechanism, ir = std::move(initial)]() mutable {
        auth::SaslConn::Result r = cp->start(mech, ir);
        if (ir) auth::wipe(*ir);
        return r;
    };
    auto start_op = core::offload(svc.pool(), std::move(start_job));
    auth::SaslConn::Result res = co_await std::move(start_op);

    while (res.outcome == auth::SaslConn::Outcome::challenge) {
        const std::string challenge = auth::encode_base64(res.challenge);
        reply(replies::auth_challenge(challenge));
        // Read one response line (RFC 4954 §4), with the command framing rules.
        std::string line;
        bool have_line = false;
        while (!have_line) {
            const smtp::Frame f = framer_.next(stream_.buffered());
            if (f.status == smtp::FrameStatus::need_more) {
                stream_.consume(f.consumed);
                if (!co_await flush()) co_return;
                const auto ec = co_await stream_.fill(cfg_.limits.timeouts.command, kMaxResponseBuffer);
                if (ec) {
                    if (ec == asio::error::timed_out) reply(replies::timeout());
                    quit_ = true;
                    co_return;
                }
                continue;
            }
            if (f.is_error()) {
                stream_.consume(f.consumed);
                reply(replies::frame_error(f.status));
                ++errors_;
                co_return;
            }
            line.assign(f.line);
            stream_.consume(f.consumed);
            have_line = true;
        }
        auth::SaslResponse r = auth::decode_sasl_response(line, false);
        auth::wipe(line);
        if (r.kind == auth::SaslResponse::Kind::cancel) {
            reply(replies::auth_cancelled());
            co_return;  // the SaslConn is dropped: the next AUTH starts fresh
        }
        if (r.kind == auth::SaslResponse::Kind::malformed) {
            reply(replies::auth_bad_base64());
            ++errors_;
            co_return;
        }
        auto step_job = [cp, data = std::move(r.data)]() mutable {
            auth::SaslConn::Result sr = cp->step(data);
            auth::wipe(data);
            return sr;
        };
        auto step_op = core::offload(svc.pool(), std::move(step_job));
        res = co_await std::move(step_op);
    }

    const std::string user = conn->user();
    const auto now = auth::Lockout::Clock::now();
    switch (res.outcome) {
        case auth::SaslConn::Outcome::success: {
            auth_user_ = user;
            reply(replies::auth_success());
            rt_.events->emit(event("auth.success")
                                 .set(Field::user, user)
                                 .set(Field::network, network)
                                 .set(Field::mechanism, a.mechanism));
            // The first login from a network not seen for this user (durable
            // write: on the pool).
            auto seen_job = [&svc, user, network]() { return svc.remember_network(user, network); };
            auto seen_op = core::offload(svc.pool(), std::move(seen_job));
            const bool fresh = co_await std::move(seen_op);
            if (fresh)
                rt_.events->emit(event("auth.new_network").set(Field::user, user).set(Field::network, network));
            break;
        }
        case auth::SaslConn::Outcome::vetoed:
            if (admission->kind == auth::Admission::Kind::network_denied) {
                // Refused exactly like a wrong password (SPEC §5).
                rt_.events->emit(event("auth.network_denied")
                                     .set(Field::user, user)
                                     .set(Field::network, network)
                                     .set(Field::reason, auth::reason_text(admission->network)));
                reply(replies::auth_invalid());
            } else {
                const bool exposed = admission->kind == auth::Admission::Kind::cleartext_locked;
                rt_.events->emit(event("auth.locked")
                                     .set(Field::user, user)
                                     .set(Field::network, network)
                                     .set(Field::reason, exposed ? "password was exposed in cleartext; "
                                                                   "set a new one with mxgate user passwd"
                                                                 : "user locked after failed authentications"));
                reply(replies::auth_locked());
            }
            break;
        case auth::SaslConn::Outcome::failure: {
            rt_.events->emit(event("auth.failure")
                                 .set(Field::user, user)
                                 .set(Field::network, network)
                                 .set(Field::mechanism, a.mechanism)
                                 .set(Field::reason, "invalid credentials"));
            count_auth_failure(user, client, network, now);
            reply(replies::auth_invalid());
            ++errors_;
            break;
        }
        case auth::SaslConn::Outcome::no_mechanism:
            reply(replies::auth_mechanism_unsupported());
            break;
        case auth::SaslConn::Outcome::temporary:
        case auth::SaslConn::Outcome::challenge:
            rt_.events->emit(event("auth.unavailable")
                                 .set(Field::user, user)
                                 .set(Field::error, "libsasl2 result " + std::to_string(res.code)));
            reply(replies::auth_temporary_failure());
            break;
    }
}

// Credentials on a plaintext connection: 538, judged only to report them.
// One failed authentication toward auth.lockout; emits auth.locked when it
// locks the user or the client address.
void Session::count_auth_failure(const std::string& user, const std::string& client, const std::string& network,
                                 auth::Lockout::Clock::time_point now) {
    const auto scope = rt_.auth->lockout().record_failure(user, client, now, auth::Lockout::Policy::from(cfg_.auth));
    if (scope == auth::Lockout::Scope::none) return;
    rt_.events->emit(event("auth.locked")
                         .set(Field::user, user)
                         .set(Field::network, network)
                         .set(Field::reason, scope == auth::Lockout::Scope::user
                                                 ? "user locked after failed authentications"
                                                 : "client address locked after failed authentications"));
}

asio::awaitable<void> Session::auth_before_tls(const smtp::AuthArgs& a) {
    const std::string client = stream_.remote_ip();
    const std::string network = network_of_client(client);
    if (a.mechanism == "LOGIN") {
        // SPEC §5: never prompt for a password in plaintext; a user name in
        // the initial response is named in the event.
        Event e = event("auth.cleartext_exposure");
        if (a.initial_response) {
            const auth::SaslResponse r = auth::decode_sasl_response(*a.initial_response, true);
            if (r.kind == auth::SaslResponse::Kind::data && !r.data.empty()) e.set(Field::user, r.data);
        }
        rt_.events->emit(e.set(Field::network, network).set(Field::mechanism, "LOGIN").set_null(Field::valid));
        reply(replies::encryption_required());
        co_return;
    }
    if (!a.initial_response) {
        reply(replies::starttls_first());
        co_return;
    }
    asio::steady_timer delay(co_await asio::this_coro::executor);
    delay.expires_after(kCleartextDelay);

    std::optional<auth::PlainCredentials> creds;
    if (a.mechanism == "PLAIN" && rt_.auth) {
        auth::SaslResponse r = auth::decode_sasl_response(*a.initial_response, true);
        if (r.kind == auth::SaslResponse::Kind::data) creds = auth::parse_plain(r.data);
        auth::wipe(r.data);
    }
    if (creds) {
        auth::Service& svc = *rt_.auth;
        const std::string user = creds->authcid;
        const bool lock = cfg_.auth.on_cleartext_credentials == conf::CleartextAction::lock;
        struct Judged {
            auth::SaslConn::Check check = auth::SaslConn::Check::temporary;
            bool locked = false;
        };
        auto judge_job = [&svc, opts = auth::Service::options(cfg_, 0), c = std::move(*creds), lock]() mutable {
            Judged j;
            std::string error;
            if (std::unique_ptr<auth::SaslConn> conn = auth::SaslConn::open(opts, error)) {
                j.check = conn->check_password(c.authcid, c.password);
                // Only a correct password locks: nobody can lock an account
                // without knowing its password.
                if (j.check == auth::SaslConn::Check::valid && lock) j.locked = svc.lock_cleartext(c.authcid);
            }
            c.wipe();
            return j;
        };
        creds.reset();
        auto judge_op = core::offload(svc.pool(), std::move(judge_job));
        const Judged j = co_await std::move(judge_op);
        Event e = event("auth.cleartext_exposure");
        e.set(Field::user, user).set(Field::network, network).set(Field::mechanism, "PLAIN");
        if (j.check == auth::SaslConn::Check::temporary)
            e.set_null(Field::valid).set(Field::error, "password check unavailable");
        else
            e.set(Field::valid, j.check == auth::SaslConn::Check::valid);
        rt_.events->emit(e);
        if (j.locked)
            rt_.events->emit(event("auth.locked")
                                 .set(Field::user, user)
                                 .set(Field::network, network)
                                 .set(Field::reason, "password was exposed in cleartext; "
                                                     "set a new one with mxgate user passwd"));
        if (j.check == auth::SaslConn::Check::invalid) {
            // A wrong password counts toward the lockout (it is still a guess).
            count_auth_failure(user, client, network, auth::Lockout::Clock::now());
        }
    }
    boost::system::error_code ec;
    co_await delay.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    reply(replies::encryption_required());
}

bool Session::submission_may_mail(const smtp::PathArgs& a) {
    if (!stream_.tls_active()) {
        reply(replies::starttls_first());
        return false;
    }
    if (auth_user_.empty()) {
        reply(replies::auth_required());
        return false;
    }
    if (!a.path.null && !auth::sender_allowed(cfg_.auth, auth_user_, a.path.address())) {
        const core::Reply r = replies::sender_not_owned();
        rt_.events->emit(event("policy.reject")
                             .set(Field::helo, helo_)
                             .set(Field::user, auth_user_)
                             .set(Field::sender, a.path.address())
                             .set(Field::code, std::to_string(r.code))
                             .set(Field::reason, "envelope sender not in auth.senders for the user"));
        reply(r);
        return false;
    }
    return true;
}

// Authenticated mail may go anywhere (SPEC §5): the owner's domains keep
// their recipient rules (unknown users 550), open-relay address forms stay
// refused (the next hop might route them), everything else is accepted for
// the outbound queue.
smtp::RecipientDecision Session::submission_recipient(const smtp::Path& p) const {
    smtp::RecipientDecision d = smtp::check_recipient(cfg_, p);
    if (d.accepted() || d.kind == smtp::RecipientDecision::Kind::unknown_user) return d;
    if (d.relay_forms != smtp::relay_form::none) return d;
    d.kind = smtp::RecipientDecision::Kind::accept;
    d.domain = nullptr;
    d.reply = replies::recipient_ok();
    return d;
}

void Session::capture_header(std::string_view chunk) {
    if ((!submission() && !tx_.capture) || tx_.header_done || chunk.empty()) return;
    const size_t old = tx_.header.size();
    const size_t room = kMaxHeaderCapture - std::min(old, kMaxHeaderCapture);
    tx_.header.append(chunk.substr(0, room));
    // The header block ends at the first empty line (RFC 5322 §2.1); the
    // search starts 3 bytes back, as the CRLFCRLF may span two chunks.
    const size_t from = old >= 3 ? old - 3 : 0;
    if (tx_.header.compare(0, 2, "\r\n") == 0) {
        tx_.header.clear();  // no header at all
        tx_.header_done = true;
    } else if (const size_t end = tx_.header.find("\r\n\r\n", from); end != std::string::npos) {
        tx_.header.resize(end + 4);
        tx_.header_done = true;
    } else if (chunk.size() > room) {
        // More bytes than the cap and no end of the header block within
        // it: a block of exactly kMaxHeaderCapture octets still counts as
        // whole, one octet more does not.
        tx_.header_done = true;
        tx_.header_truncated = true;
    }
}

// SPEC §5: every address of the From: header must be one the user may use
// (auth.senders), as for MAIL FROM. A message without a usable From: is
// refused too: it would let the user send as nobody in particular.
std::optional<core::Reply> Session::submission_header_verdict(std::string& reason) const {
    if (!submission() || auth_user_.empty()) return std::nullopt;
    const dmarc::HeaderBlock headers = dmarc::split_header_block(tx_.header);
    const std::vector<const dmarc::HeaderField*> froms = headers.all("From");
    if (froms.empty()) {
        reason = "no From: header";
        return core::Reply(553, "5.7.1", "Sender address rejected: message has no From: header");
    }
    for (const dmarc::HeaderField* f : froms) {
        const dmarc::AddressParse p = dmarc::parse_address_list(f->value);
        if (!p.ok() || p.list->mailboxes.empty()) {
            reason = "unparseable From: header";
            return core::Reply(553, "5.7.1", "Sender address rejected: cannot parse the From: header");
        }
        for (const dmarc::Mailbox& m : p.list->mailboxes) {
            if (m.domain_literal || !auth::sender_allowed(cfg_.auth, auth_user_, m.address())) {
                reason = "From: header address not in auth.senders for user " + auth_user_;
                return core::Reply(553, "5.7.1", "Sender address rejected: From: header not owned by user");
            }
        }
    }
    return std::nullopt;
}

}  // namespace mxgate::server
