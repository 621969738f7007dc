// relay/client/downstream_courier.cpp — TLS mode policy, AUTH policy,
// connection reuse and opportunistic fallback for the downstream courier
// (client.hpp; docs/delivery-client.md gives the reasons per mode).
//
// Modes (conf::DownstreamTls):
//   none           never STARTTLS, even when offered.
//   opportunistic  STARTTLS when offered; a refused STARTTLS or a failed
//                  handshake follows settings.fallback: plaintext_logged
//                  continues (refusal) or reconnects (handshake) in
//                  plaintext and reports tls.plaintext_fallback; defer is a
//                  transient failure. No certificate checks.
//   encrypt        STARTTLS mandatory, no certificate checks.
//   verify         STARTTLS mandatory, chain verified against the trust
//                  store and the certificate names the configured host
//                  (RFC 6125 via tlspolicy::certificate_matches_host).
//   pin            STARTTLS mandatory, the peer key's SPKI pin must be one
//                  of downstream.pin; the chain is not checked (a
//                  self-signed home box).
// Under encrypt, verify and pin every TLS failure is transient and the
// connection is closed: never plaintext (SPEC §7).
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>

#include "relay/client/client.hpp"
#include "relay/client/connect.hpp"
#include "relay/client/smtp_session.hpp"
#include "relay/client/smtp_text.hpp"
#include "relay/core/ascii.hpp"

namespace mxgate::client {

namespace asio = boost::asio;

ClientTimeouts ClientTimeouts::from_config(const conf::Timeouts& t) {
    ClientTimeouts out;
    out.command = t.command;
    out.data_block = t.data_block;
    out.tls_handshake = t.tls_handshake;
    return out;
}

namespace {

const char* mode_name(conf::DownstreamTls m) {
    switch (m) {
        case conf::DownstreamTls::verify: return "verify";
        case conf::DownstreamTls::pin: return "pin";
        case conf::DownstreamTls::encrypt: return "encrypt";
        case conf::DownstreamTls::opportunistic: return "opportunistic";
        case conf::DownstreamTls::none: return "none";
    }
    return "?";
}

bool mandatory(conf::DownstreamTls m) {
    return m == conf::DownstreamTls::verify || m == conf::DownstreamTls::pin ||
           m == conf::DownstreamTls::encrypt;
}

// The result of opening a session; `session` is null on failure.
struct Opened {
    std::unique_ptr<SmtpSession> session;
    bool connected = false;
    std::string mx;
    std::string local_ip;
    std::string error;
    TlsOutcome tls;
    bool retry_plaintext = false;   // opportunistic handshake failed; reconnect may help
    bool tls_failure = false;       // given up for a TLS reason (DeliveryOutcome::tls_failure)
};

bool names_match(X509* cert, const conf::Downstream& ds, const ClientSettings& st) {
    if (!cert) return false;
    if (!st.verify_names.empty()) return tlspolicy::certificate_matches_list(cert, st.verify_names);
    return tlspolicy::certificate_matches_host(cert, core::ascii::to_lower(strip_brackets(ds.address.host)));
}

std::string expected_names(const conf::Downstream& ds, const ClientSettings& st) {
    if (st.verify_names.empty()) return ds.address.host;
    std::string out;
    for (const auto& n : st.verify_names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// Certificate checks after a completed handshake; "" when acceptable.
std::string check_peer(SSL* ssl, const conf::Downstream& ds, const ClientSettings& st,
                       const tlspolicy::SessionInfo& info) {
    X509* cert = ssl ? SSL_get0_peer_certificate(ssl) : nullptr;
    switch (ds.tls) {
        case conf::DownstreamTls::verify:
            if (!cert) return "no peer certificate";
            if (!info.chain_verified) return "certificate chain not verified: " + info.verify_error;
            if (!names_match(cert, ds, st)) return "certificate does not name " + expected_names(ds, st);
            return {};
        case conf::DownstreamTls::pin:
            if (!cert) return "no peer certificate";
            if (!tlspolicy::certificate_matches_pins(cert, ds.pin))
                return "peer key " + info.peer_pin + " matches no configured pin";
            return {};
        default:
            return {};
    }
}

}  // namespace

DownstreamCourier::DownstreamCourier(asio::any_io_executor ex, std::shared_ptr<core::Resolver> resolver,
                                     conf::Downstream downstream, tlspolicy::ContextPtr tls_ctx,
                                     ClientSettings settings)
    : ex_(std::move(ex)),
      resolver_(std::move(resolver)),
      downstream_(std::move(downstream)),
      tls_ctx_(std::move(tls_ctx)),
      settings_(std::move(settings)) {}

DownstreamCourier::~DownstreamCourier() = default;

namespace {

asio::awaitable<Opened> open_session(asio::any_io_executor ex, core::Resolver& resolver,
                                     const conf::Downstream& ds, const tlspolicy::ContextPtr& ctx,
                                     const ClientSettings& st, bool force_plaintext) {
    Opened o;
    o.tls.new_connection = true;
    auto cr = co_await connect_host(ex, resolver, ds.address, st.timeouts.connect);
    if (!cr.socket) {
        o.error = cr.error;
        co_return o;
    }
    o.mx = cr.peer;
    {
        boost::system::error_code lec;
        const auto local = cr.socket->local_endpoint(lec);
        if (!lec) o.local_ip = local.address().to_string();
    }
    auto s = std::make_unique<SmtpSession>(std::move(*cr.socket), cr.peer, ds.lmtp, st.timeouts);
    auto give_up = [&](std::string why) -> asio::awaitable<void> {
        o.error = std::move(why);
        co_await s->quit();
    };

    const bool ok1 = co_await s->greet();
    if (!ok1) {
        o.connected = s->usable();
        co_await give_up(s->error());
        co_return o;
    }
    o.connected = true;
    const bool ok2 = co_await s->hello(st.hostname);
    if (!ok2) {
        co_await give_up(s->error());
        co_return o;
    }

    o.tls.starttls_offered = s->caps().starttls;
    // DANE makes TLS mandatory whatever the mode (RFC 7672 §2.2).
    const bool must_tls = mandatory(ds.tls) || st.dane != nullptr;
    const bool want_tls = (ds.tls != conf::DownstreamTls::none || st.dane != nullptr) && !force_plaintext;
    if (want_tls && !s->caps().starttls) {
        if (must_tls) {
            o.tls_failure = true;
            co_await give_up(o.mx + " does not offer STARTTLS (tls: " + mode_name(ds.tls) + ")");
            co_return o;
        }
    } else if (want_tls) {
        o.tls.attempted = true;
        core::Reply r;
        if (!ctx) {
            co_await give_up("no TLS client context configured");
            co_return o;
        }
        const bool go = co_await s->starttls_command(r);
        if (!s->usable()) {
            o.error = s->error();
            co_await s->quit();
            co_return o;
        }
        if (!go) {
            o.tls.error = "STARTTLS refused: " + reply_text(r);
            if (must_tls || st.fallback == conf::Fallback::defer) {
                o.tls_failure = true;
                co_await give_up(o.mx + ": " + o.tls.error + " (tls: " + mode_name(ds.tls) + ")");
                co_return o;
            }
            // RFC 3207 §4.1: after a refusal the session continues in
            // plaintext; that is the logged fallback.
            o.tls.plaintext_fallback = true;
        } else {
            std::string sni = is_ip_literal(ds.address.host) ? "" : core::ascii::to_lower(ds.address.host);
            net::SmtpStream::Prepare prepare;
            if (st.dane) {
                sni = st.dane->base_domain;
                prepare = [plan = st.dane](SSL* ssl, std::string& why) { return tlspolicy::arm_dane(ssl, *plan, why); };
            }
            const bool ok3 = co_await s->handshake(*ctx, sni, std::move(prepare));
            if (!ok3) {
                o.tls_failure = true;
                o.tls.error = s->error();
                o.error = s->error();
                s->abort();
                // Opportunistic may try again without TLS on a new
                // connection; mandatory levels never do.
                o.retry_plaintext = !must_tls && st.fallback == conf::Fallback::plaintext_logged;
                co_return o;
            }
            o.tls.info = tlspolicy::describe(s->stream().native_ssl());
            o.tls.name_matched = names_match(SSL_get0_peer_certificate(s->stream().native_ssl()), ds, st);
            const std::string bad = check_peer(s->stream().native_ssl(), ds, st, o.tls.info);
            if (!bad.empty()) {
                o.tls_failure = true;
                o.tls.error = bad;
                co_await give_up("TLS " + std::string(mode_name(ds.tls)) + " failed for " + o.mx + ": " + bad);
                co_return o;
            }
            if (st.dane) {
                const tlspolicy::DaneVerdict v = tlspolicy::dane_verdict(s->stream().native_ssl());
                if (!v.ok) {
                    o.tls_failure = true;
                    o.tls.error = "DANE: " + v.error;
                    co_await give_up("DANE verification failed for " + o.mx + ": " + v.error);
                    co_return o;
                }
                o.tls.dane_match = v.matched;
            }
            o.tls.established = true;
            // check_peer() passed: under verify and pin that authenticated
            // the peer; DANE did when a record matched.
            o.tls.authenticated = ds.tls == conf::DownstreamTls::verify || ds.tls == conf::DownstreamTls::pin ||
                                  !o.tls.dane_match.empty();
            // RFC 3207 §4.2: ask again; what was offered in plaintext is void.
            const bool ok4 = co_await s->hello(st.hostname);
            if (!ok4) {
                co_await give_up(s->error());
                co_return o;
            }
        }
    }

    if (ds.auth) {
        // Never a password without TLS, whatever the server offers.
        if (!o.tls.established) {
            co_await give_up("refusing to send credentials to " + o.mx + " without TLS");
            co_return o;
        }
        if (s->caps().auth.empty()) {
            co_await give_up(o.mx + " does not offer AUTH but downstream.auth is configured");
            co_return o;
        }
        std::string err;
        auto password = read_password_file(ds.auth->password_file, err);
        if (!password) {
            co_await give_up(err);
            co_return o;
        }
        const bool ok = co_await s->authenticate(ds.auth->username, *password);
        std::fill(password->begin(), password->end(), '\0');
        if (!ok) {
            co_await give_up(s->error());
            co_return o;
        }
    }
    s->tls = o.tls;
    o.session = std::move(s);
    co_return o;
}

}  // namespace

asio::awaitable<DeliveryOutcome> DownstreamCourier::deliver(const spool::Envelope& envelope,
                                                            std::string_view body,
                                                            const std::vector<size_t>& rcpts,
                                                            std::unique_ptr<Connection>& conn) {
    DeliveryOutcome out;
    for (;;) {
        SmtpSession* s = static_cast<SmtpSession*>(conn.get());
        // A cached connection proves it is alive with an RSET (pipelined
        // with the transaction); if the server dropped it while idle, a
        // fresh one replaces it without failing anybody.
        const bool reused = s && s->usable();
        if (s && !reused) {
            s->abort();
            conn.reset();
            s = nullptr;
        }
        if (s) {
            out.connected = true;
            out.mx = s->peer();
            out.tls = s->tls;
            out.tls.new_connection = false;
        } else {
            Opened o = co_await open_session(ex_, *resolver_, downstream_, tls_ctx_, settings_, false);
            if (!o.session && o.retry_plaintext) {
                // SPEC §7: the retry happens in plaintext and is logged.
                const TlsOutcome failed = o.tls;
                o = co_await open_session(ex_, *resolver_, downstream_, tls_ctx_, settings_, true);
                o.tls.attempted = true;
                o.tls.error = failed.error;
                o.tls.plaintext_fallback = true;
            }
            out.connected = o.connected;
            out.mx = o.mx;
            out.local_ip = o.local_ip;
            out.tls = o.tls;
            if (!o.session) {
                out.error = o.error;
                out.tls_failure = o.tls_failure;
                out.rcpts.assign(rcpts.size(), RcptOutcome{RcptResult::transient, o.error});
                co_return out;
            }
            s = o.session.get();
            conn = std::move(o.session);
        }
        out.peer_dsn = s->caps().dsn;
        out.lmtp = s->lmtp();
        const bool done = co_await s->transaction(envelope, body, rcpts, out.rcpts, reused);
        if (!done) {
            // Only a reused connection can say so (the next round opens a
            // new one, which never does): stale, not a delivery failure.
            s->abort();
            conn.reset();
            out = DeliveryOutcome{};
            continue;
        }
        out.requiretls_refused = s->requiretls_refused();
        if (!s->usable()) {
            out.error = s->error();
            s->abort();
            conn.reset();
        }
        co_return out;
    }
}

asio::awaitable<void> DownstreamCourier::close(std::unique_ptr<Connection>& conn) {
    if (auto* s = static_cast<SmtpSession*>(conn.get())) {
        co_await s->quit();
    }
    conn.reset();
}

}  // namespace mxgate::client
