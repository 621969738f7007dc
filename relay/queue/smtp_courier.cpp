#include "relay/queue/smtp_courier.hpp"

#include <algorithm>
#include <random>

#include "relay/client/client.hpp"
#include "relay/queue/dkim_signing.hpp"

namespace mxgate::queue {

namespace asio = boost::asio;
using core::Event;
using core::Field;

namespace {

struct ClientLink final : Link {
    std::unique_ptr<client::Connection> conn;
    std::string host;  // MX host the connection belongs to (mx routes)
};

RcptResult convert(client::RcptResult r) {
    switch (r) {
        case client::RcptResult::delivered: return RcptResult::delivered;
        case client::RcptResult::permanent: return RcptResult::permanent;
        default: return RcptResult::transient;
    }
}

class SmtpCourier final : public Courier {
public:
    explicit SmtpCourier(server::Runtime& rt) : rt_(rt) {}

    asio::awaitable<DeliveryOutcome> deliver(const Route& route, const spool::QueuedMessage& msg,
                                             const std::string& body, const std::vector<size_t>& rcpts,
                                             std::unique_ptr<Link>& link) override {
        auto snap = rt_.snapshot();
        if (!link) link = std::make_unique<ClientLink>();
        auto& cl = static_cast<ClientLink&>(*link);
        if (route.kind == Route::Kind::downstream) {
            const conf::Domain* d = snap->config->find_domain(route.domain);
            if (!d) co_return local_failure(rcpts, "domain " + route.domain + " is no longer configured");
            // named result: GCC 12 miscompiles co_return co_await (docs/design.md)
            DeliveryOutcome out = co_await via(*snap, d->downstream, route, msg, body, rcpts, cl);
            co_return out;
        }
        // Internet delivery: mail from an owner domain with a DKIM key is
        // signed on its way out (dkim_signing.hpp).
        auto sign = dkim_sign_outbound(rt_, snap->config, msg.envelope.prepend, body);
        const DkimStep dkim = co_await std::move(sign);
        if (!dkim.ok) co_return local_failure(rcpts, dkim.error);
        if (!dkim.header.empty()) {
            spool::QueuedMessage signed_msg = msg;
            signed_msg.envelope.prepend = dkim.header + msg.envelope.prepend;
            DeliveryOutcome out = co_await via_mx(*snap, route, signed_msg, body, rcpts, cl);
            co_return out;
        }
        DeliveryOutcome out = co_await via_mx(*snap, route, msg, body, rcpts, cl);
        co_return out;
    }

    asio::awaitable<void> close(std::unique_ptr<Link>& link) override {
        if (!link) co_return;
        auto& cl = static_cast<ClientLink&>(*link);
        if (cl.conn) {
            auto snap = rt_.snapshot();
            client::DownstreamCourier c(rt_.io.get_executor(), rt_.resolver, conf::Downstream{},
                                        snap->client_tls, settings(*snap));
            co_await c.close(cl.conn);
        }
        link.reset();
    }

private:
    client::ClientSettings settings(const server::Snapshot& snap) const {
        client::ClientSettings s;
        s.hostname = snap.config->hostname;
        s.timeouts = client::ClientTimeouts::from_config(snap.config->limits.timeouts);
        s.fallback = snap.config->tls.outbound.fallback;
        return s;
    }

    static DeliveryOutcome local_failure(const std::vector<size_t>& rcpts, const std::string& why, bool permanent = false) {
        DeliveryOutcome out;
        out.error = why;
        for (size_t i = 0; i < rcpts.size(); ++i)
            out.rcpts.push_back({permanent ? RcptResult::permanent : RcptResult::transient, why});
        return out;
    }

    asio::awaitable<DeliveryOutcome> via(const server::Snapshot& snap, const conf::Downstream& ds, const Route& route,
                                         const spool::QueuedMessage& msg, const std::string& body,
                                         const std::vector<size_t>& rcpts, ClientLink& cl) {
        client::DownstreamCourier c(rt_.io.get_executor(), rt_.resolver, ds, snap.client_tls, settings(snap));
        const client::DeliveryOutcome r = co_await c.deliver(msg.envelope, body, rcpts, cl.conn);
        report_tls(r, route, msg.envelope.id, ds);
        DeliveryOutcome out;
        out.connected = r.connected;
        out.mx = r.mx;
        out.error = r.error;
        for (const auto& o : r.rcpts) out.rcpts.push_back({convert(o.result), o.reply});
        co_return out;
    }

    // Internet delivery for domains that are not the owner's: MX hosts in
    // preference order (equal preferences shuffled), opportunistic TLS.
    asio::awaitable<DeliveryOutcome> via_mx(const server::Snapshot& snap, const Route& route,
                                            const spool::QueuedMessage& msg, const std::string& body,
                                            const std::vector<size_t>& rcpts, ClientLink& cl) {
        auto lookup = core::lookup_mx(*rt_.resolver, route.domain);  // named: GCC 12 co_await temporaries
        auto mx = co_await std::move(lookup);
        std::vector<std::string> hosts;
        if (mx.status == core::DnsStatus::temp_fail)
            co_return local_failure(rcpts, "MX lookup for " + route.domain + " failed: " + mx.error);
        if (mx.status == core::DnsStatus::nxdomain)
            co_return local_failure(rcpts, "domain " + route.domain + " does not exist", true);
        if (mx.status == core::DnsStatus::ok) {
            auto recs = mx.records;
            std::shuffle(recs.begin(), recs.end(), std::mt19937{std::random_device{}()});
            std::stable_sort(recs.begin(), recs.end(),
                             [](const auto& a, const auto& b) { return a.preference < b.preference; });
            for (const auto& r : recs) {
                if (r.host.empty())  // RFC 7505 null MX
                    co_return local_failure(rcpts, "domain " + route.domain + " accepts no mail (null MX)", true);
                hosts.push_back(r.host);
            }
        } else {
            hosts.push_back(route.domain);  // RFC 5321 §5.1: implicit MX
        }
        DeliveryOutcome last = local_failure(rcpts, "no MX host for " + route.domain);
        for (const auto& host : hosts) {
            if (cl.conn && cl.host != host) {
                client::DownstreamCourier c(rt_.io.get_executor(), rt_.resolver, conf::Downstream{},
                                            snap.client_tls, settings(snap));
                co_await c.close(cl.conn);
            }
            cl.host = host;
            conf::Downstream ds;
            ds.address.host = host;
            ds.address.port = 25;
            ds.tls = conf::DownstreamTls::opportunistic;
            last = co_await via(snap, ds, route, msg, body, rcpts, cl);
            if (last.connected) break;  // this host answered: its verdict stands
        }
        co_return last;
    }

    void report_tls(const client::DeliveryOutcome& r, const Route& route, const std::string& qid,
                    const conf::Downstream& ds) {
        if (!r.tls.new_connection) return;
        const std::string level = ds.tls == conf::DownstreamTls::none ? "none"
                                  : ds.tls == conf::DownstreamTls::opportunistic ? "opportunistic"
                                  : ds.tls == conf::DownstreamTls::encrypt ? "encrypt"
                                  : ds.tls == conf::DownstreamTls::pin ? "pin" : "verify";
        if (r.tls.established) {
            rt_.events->emit(Event("tls.handshake")
                                 .set(Field::queue_id, qid)
                                 .set(Field::domain, route.domain)
                                 .set(Field::mx, r.mx)
                                 .set(Field::level, level)
                                 .set(Field::tls_version, r.tls.info.version)
                                 .set(Field::cipher, r.tls.info.cipher)
                                 .set(Field::peer_cert, r.tls.info.peer_subject));
        } else if (r.tls.attempted && !r.tls.error.empty()) {
            rt_.events->emit(Event("tls.handshake_failed")
                                 .set(Field::queue_id, qid)
                                 .set(Field::domain, route.domain)
                                 .set(Field::mx, r.mx)
                                 .set(Field::level, level)
                                 .set(Field::error, r.tls.error));
        }
        if (r.tls.plaintext_fallback)
            rt_.events->emit(Event("tls.plaintext_fallback")
                                 .set(Field::queue_id, qid)
                                 .set(Field::domain, route.domain)
                                 .set(Field::mx, r.mx)
                                 .set(Field::level, level)
                                 .set(Field::error, r.tls.error));
    }

    server::Runtime& rt_;
};

}  // namespace

std::shared_ptr<Courier> make_smtp_courier(server::Runtime& rt) { return std::make_shared<SmtpCourier>(rt); }

}  // namespace mxgate::queue
