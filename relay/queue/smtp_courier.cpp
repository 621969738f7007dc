#include "relay/queue/smtp_courier.hpp"

#include <algorithm>
#include <random>

#include "relay/client/client.hpp"
#include "relay/queue/dkim_signing.hpp"
#include "relay/queue/tls_memory.hpp"
#include "relay/queue/tlsrpt_recorder.hpp"
#include "relay/queue/tlsrpt_sender.hpp"
#include "tlspolicy/dane.hpp"
#include "tlspolicy/mta_sts_client.hpp"
#include "tlspolicy/outbound_policy.hpp"
#include "tlspolicy/requiretls.hpp"

namespace mxgate::queue {

namespace asio = boost::asio;
using core::Event;
using core::Field;

namespace {

struct ClientLink final : Link {
    std::unique_ptr<client::Connection> conn;
    std::string host;            // MX host the connection belongs to (mx routes)
    tlspolicy::MxPlan plan;      // the TLS plan it was opened under
    tlspolicy::ContextPtr ctx;   // and the client context
    std::string dane;            // the DANE records it was verified against ("" = none)
    std::string downstream;      // downstream routes: the settings it was opened under
};

// What a downstream connection depends on: a reload that changes any of
// it (address, LMTP, TLS mode, pins, login) must not reuse one opened
// under the old settings.
std::string downstream_key(const conf::Downstream& ds) {
    std::string k = ds.address.host + "|" + std::to_string(ds.address.port) + "|" + (ds.lmtp ? "lmtp" : "smtp") +
                    "|" + std::to_string(static_cast<int>(ds.tls));
    for (const auto& p : ds.pin) k += "|" + p;
    if (ds.auth) k += "|" + ds.auth->username + "|" + ds.auth->password_file;
    return k;
}

RcptResult convert(client::RcptResult r) {
    switch (r) {
        case client::RcptResult::delivered: return RcptResult::delivered;
        case client::RcptResult::permanent: return RcptResult::permanent;
        default: return RcptResult::transient;
    }
}

class SmtpCourier final : public Courier {
public:
    explicit SmtpCourier(server::Runtime& rt) : rt_(rt) {
        // Module state in the spool (survives restarts). A spool that cannot
        // hold it leaves MTA-STS without a cache and no TLS memory: logged by
        // the failing deliveries, never a crash.
        try {
            const std::string spool = rt_.snapshot()->config->spool;
            sts_cache_ = std::make_unique<core::StateStore>(spool, "mta-sts");
            tls_memory_ = std::make_unique<TlsMemory>(core::StateStore(spool, "tls-seen"));
            tlsrpt_ = std::make_unique<TlsRptRecorder>(core::StateStore(spool, kTlsRptStore));
        } catch (const std::exception&) {
        }
    }

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

    bool connected(const std::unique_ptr<Link>& link) const override {
        if (!link) return false;
        const auto& cl = static_cast<const ClientLink&>(*link);
        return cl.conn && cl.conn->usable();
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
        // RFC 8689: only an authenticated downstream can carry REQUIRETLS
        // (the session refuses such RCPTs; this covers a config reload).
        if (msg.envelope.requiretls && !msg.envelope.sender.empty() && !tlspolicy::requiretls_downstream_ok(ds.tls))
            co_return local_failure(rcpts, "550 5.7.10 REQUIRETLS: downstream of " + route.domain + " uses tls: " +
                                               level_of(ds) + ", not verify or pin", true);
        client::DownstreamCourier c(rt_.io.get_executor(), rt_.resolver, ds, snap.client_tls, settings(snap));
        std::string key = downstream_key(ds);
        if (cl.conn && (cl.downstream != key || cl.ctx != snap.client_tls)) co_await c.close(cl.conn);
        cl.downstream = std::move(key);
        cl.ctx = snap.client_tls;
        const client::DeliveryOutcome r = co_await c.deliver(msg.envelope, body, rcpts, cl.conn);
        report_tls(r, route, msg.envelope.id, level_of(ds));
        DeliveryOutcome out = to_queue(r);
        co_return out;
    }

    // Internet delivery for a domain that is not the owner's (SPEC §7):
    // the TLS decision for the domain (config, MTA-STS), then MX hosts in
    // preference order (equal preferences shuffled; the domain itself when
    // it has no MX; RFC 7505 null MX bounces), each with its MxPlan. A host
    // the policy refuses is skipped; a host with a session-level failure
    // (connect, greeting, TLS) gives way to the next one.
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
            std::shuffle(recs.begin(), recs.end(), rng_);
            std::stable_sort(recs.begin(), recs.end(),
                             [](const auto& a, const auto& b) { return a.preference < b.preference; });
            for (const auto& r : recs) {
                if (r.host.empty() || r.host == ".")  // RFC 7505 null MX
                    co_return local_failure(rcpts, "domain " + route.domain + " accepts no mail (null MX)", true);
                hosts.push_back(r.host);
            }
        } else {
            hosts.push_back(route.domain);  // RFC 5321 §5.1: implicit MX
        }

        // RFC 8689 (docs/requiretls.md): REQUIRETLS needs the MX validated
        // (DNSSEC or MTA-STS enforce) and authenticated TLS, never less than
        // the policy; TLS-Required: No (without REQUIRETLS) sets the
        // recipient-side policies (MTA-STS, DANE) aside, never the owner's.
        // A null-sender REQUIRETLS message (our DSN) is best effort (RFC 8689 §5).
        const bool requiretls = msg.envelope.requiretls && !msg.envelope.sender.empty();
        const bool sender_optional = msg.envelope.tls_optional && !requiretls;
        const bool mx_dnssec = mx.authenticated;
        std::optional<tlspolicy::StsPolicy> sts_seen;
        std::string sts_fetch_error;   // TLS-RPT: MTA-STS published, no policy in force
        auto decide_op = decide(snap, route.domain, requiretls, sender_optional, sts_seen, &sts_fetch_error);
        const tlspolicy::OutboundDecision decision = co_await std::move(decide_op);
        const tlspolicy::ContextPtr ctx = context_for(snap, decision);
        std::string rt_failure;     // first REQUIRETLS refusal ("550 5.7.x ...")
        bool rt_other = false;      // a host failed for a reason that is not REQUIRETLS's (retry)
        bool done = false;          // a transaction happened and its verdicts stand
        DeliveryOutcome last = local_failure(rcpts, "no MX host for " + route.domain);
        std::string refusals;
        std::string used_mx;
        client::DeliveryOutcome used;
        bool attempted = false;
        const bool want_dane =
            !sender_optional && tlspolicy::dane_wanted(decision.level, snap.config->tls.outbound.use_dane);
        bool used_dane = false;
        // RFC 8460 §5.3: a TLS-RPT report is delivered despite TLS failures,
        // and its sessions are not counted in the next report (no loops).
        const bool report_mail = msg.envelope.listener == kTlsRptListener;
        for (const auto& host : hosts) {
            tlspolicy::MxPlan plan = tlspolicy::plan_for_mx(decision, host);
            RptContext rpt;   // what TLS-RPT reports this host's session under
            // DANE (RFC 7672, docs/dane.md): per MX host, and it takes
            // precedence over MTA-STS and the configured level.
            std::shared_ptr<const tlspolicy::DanePlan> dane;
            std::string dane_key;
            bool dane_deferred = false;  // TLSA lookup failed or bogus: may pass (RFC 7672 §2.1.1)
            if (want_dane) {
                auto lookup_op = tlspolicy::lookup_dane(*rt_.resolver, host);
                tlspolicy::DanePlan dp = co_await std::move(lookup_op);
                const tlspolicy::DaneEffect eff = tlspolicy::dane_effect(decision.level, dp);
                rpt.dane(eff, dp);
                switch (eff.action) {
                    case tlspolicy::DaneAction::keep_level: break;
                    case tlspolicy::DaneAction::defer:
                        dane_deferred = true;
                        plan.allowed = false;
                        plan.refusal = "DANE: " + eff.reason;
                        break;
                    case tlspolicy::DaneAction::encrypt:
                        // Unusable signed records: TLS mandatory, unauthenticated;
                        // a stricter plan (verify) stays. Level dane is met by it.
                        if (decision.level == conf::OutboundLevel::dane) {
                            plan.allowed = true;
                            plan.refusal.clear();
                        }
                        if (plan.tls < tlspolicy::ClientTls::encrypt) plan.tls = tlspolicy::ClientTls::encrypt;
                        break;
                    case tlspolicy::DaneAction::dane_verify:
                        plan.allowed = true;
                        plan.refusal.clear();
                        plan.tls = tlspolicy::ClientTls::encrypt;  // names and chain: DANE's job
                        plan.names.clear();
                        dane = std::make_shared<const tlspolicy::DanePlan>(std::move(dp));
                        dane_key = dane->base_domain;
                        for (const auto& rec : dane->usable) dane_key += " " + tlspolicy::tlsa_text(rec);
                        break;
                }
            }
            if (requiretls && plan.allowed && !tlspolicy::requiretls_mx_validated(mx_dnssec, sts_seen, host)) {
                plan.allowed = false;
                plan.refusal = "REQUIRETLS: MX " + host + " of " + route.domain +
                               " is neither DNSSEC-signed nor listed by an MTA-STS policy in enforce mode";
            }
            if (requiretls && !dane) plan = tlspolicy::requiretls_raise(std::move(plan), host);
            if (!rpt.tlsa) rpt.sts(decision, host, sts_fetch_error);
            if (report_mail) {
                plan.allowed = true;
                plan.refusal.clear();
                plan.tls = tlspolicy::ClientTls::opportunistic;
                plan.names.clear();
                dane.reset();
                dane_key.clear();
            }
            if (!plan.allowed) {
                refusals += (refusals.empty() ? "" : "; ") + plan.refusal;
                // A DANE deferral (DNS failure, bogus TLSA) is retried like
                // any temporary failure; policy refusals are final.
                if (requiretls && dane_deferred) rt_other = true;
                else if (requiretls && rt_failure.empty()) rt_failure = "550 5.7.10 " + plan.refusal;
                record_refusal(snap, route.domain, host, rpt, plan);
                continue;
            }
            // A cached connection is reused only for the same host under the
            // same plan, context and DANE records (a policy may have tightened
            // meanwhile).
            if (cl.conn && (cl.host != host || !(cl.plan == plan) || cl.ctx != ctx || cl.dane != dane_key)) {
                client::DownstreamCourier c(rt_.io.get_executor(), rt_.resolver, conf::Downstream{},
                                            snap.client_tls, settings(snap));
                co_await c.close(cl.conn);
            }
            cl.host = host;
            cl.plan = plan;
            cl.ctx = ctx;
            cl.dane = dane_key;
            conf::Downstream ds;
            ds.address.host = host;
            ds.address.port = mx_port_;
            ds.tls = downstream_tls(plan.tls);
            client::ClientSettings st = settings(snap);
            st.verify_names = plan.names;
            st.dane = dane;
            if (report_mail) st.fallback = conf::Fallback::plaintext_logged;
            client::DownstreamCourier c(rt_.io.get_executor(), rt_.resolver, ds, ctx, st);
            client::DeliveryOutcome r = co_await c.deliver(msg.envelope, body, rcpts, cl.conn);
            attempted = true;
            used_dane = dane != nullptr;
            report_tls(r, route, msg.envelope.id, used_dane ? "dane" : tlspolicy::level_name(decision.level));
            if (!report_mail) record_session(snap, route.domain, host, rpt, plan, dane != nullptr, r);
            last = to_queue(r);
            used_mx = host;
            used = r;
            if (requiretls && r.requiretls_refused) {
                // RFC 8689 §4.2.1: QUIT is for later; try the next MX host.
                if (rt_failure.empty() && !r.rcpts.empty()) rt_failure = r.rcpts.front().reply;
                continue;
            }
            if (requiretls && r.tls_failure) {
                if (rt_failure.empty())
                    rt_failure = "550 5.7.10 REQUIRETLS: no verified TLS with " + r.mx + ": " + r.error;
                continue;
            }
            if (r.connected && r.error.empty()) {
                done = true;
                break;  // a transaction happened: its verdicts stand
            }
            rt_other = true;
        }
        // RFC 8689 §4.2.1: when no MX host could carry the message under
        // REQUIRETLS, it is not sent and the sender gets a DSN; a host that
        // failed for another reason (network, 4xx) keeps it in the queue.
        if (requiretls && !done && !rt_failure.empty() && !rt_other) {
            report_policy(decision, msg.envelope.id, used_mx, std::nullopt, "requiretls");
            co_return local_failure(rcpts, rt_failure, true);
        }
        // tls.policy says why a message was sent differently from the policy.
        const char* why = requiretls ? "requiretls" : sender_optional ? "tls-required-no" : nullptr;
        if (!attempted) {
            report_policy(decision, msg.envelope.id, "", std::nullopt, why);
            co_return local_failure(rcpts, refusals.empty() ? "no usable MX host for " + route.domain : refusals);
        }
        // DANE-verified TLS is verified TLS (for the best-TLS memory).
        const bool tls_ok = used.tls.established &&
                            ((used.tls.info.chain_verified && used.tls.name_matched) || !used.tls.dane_match.empty());
        std::optional<bool> would_fail;
        if (decision.sts_testing && !used_dane) would_fail = tlspolicy::testing_would_fail(decision, used_mx, tls_ok);
        if (used_dane) {
            // The host was delivered to under DANE: that is the policy in force.
            tlspolicy::OutboundDecision by_dane = decision;
            by_dane.level = conf::OutboundLevel::dane;
            by_dane.source = tlspolicy::PolicySource::dane;
            report_policy(by_dane, msg.envelope.id, used_mx, would_fail, why);
        } else {
            report_policy(decision, msg.envelope.id, used_mx, would_fail, why);
        }
        if (used.tls.new_connection && used.connected && used.error.empty())
            remember_tls(route.domain, used, msg.envelope.id, tls_ok);
        co_return last;
    }

    // Policy discovery (MTA-STS) and the decision for a destination domain.
    // requiretls: MTA-STS is looked up even when the policy would not use
    // it, to validate the MX hosts (RFC 8689 §4.2.1); `sts_seen` gets it.
    // sender_optional (TLS-Required: No): no MTA-STS at all.
    asio::awaitable<tlspolicy::OutboundDecision> decide(const server::Snapshot& snap, const std::string& domain,
                                                        bool requiretls, bool sender_optional,
                                                        std::optional<tlspolicy::StsPolicy>& sts_seen,
                                                        std::string* sts_fetch_error) {
        const conf::OutboundTls& ocfg = snap.config->tls.outbound;
        tlspolicy::PolicyInputs in;
        const bool wanted = tlspolicy::wants_mta_sts(ocfg, domain);
        if ((requiretls || (wanted && !sender_optional)) && sts_cache_) {
            auto pending = tlspolicy::resolve_mta_sts(rt_.io.get_executor(), *rt_.resolver, snap.client_tls,
                                                      *sts_cache_, rt_.events.get(), domain);
            tlspolicy::StsLookup l = co_await std::move(pending);
            sts_seen = l.policy;
            if (wanted) {
                in.sts = l.policy;
                in.sts_id = l.id;
                // TLS-RPT: the domain publishes MTA-STS but no policy is in force.
                if (!l.policy && !l.fetch_error.empty()) *sts_fetch_error = l.fetch_error;
            }
        }
        tlspolicy::OutboundDecision d = tlspolicy::decide(ocfg, domain, in);
        co_return d;
    }

    tlspolicy::ContextPtr context_for(const server::Snapshot& snap, const tlspolicy::OutboundDecision& d) const {
        if (d.own_profile) {
            auto it = snap.policy_client_tls.find(d.domain);
            if (it != snap.policy_client_tls.end()) return it->second;
        }
        return snap.client_tls;
    }

    static conf::DownstreamTls downstream_tls(tlspolicy::ClientTls t) {
        switch (t) {
            case tlspolicy::ClientTls::none: return conf::DownstreamTls::none;
            case tlspolicy::ClientTls::opportunistic: return conf::DownstreamTls::opportunistic;
            case tlspolicy::ClientTls::encrypt: return conf::DownstreamTls::encrypt;
            case tlspolicy::ClientTls::verify: return conf::DownstreamTls::verify;
        }
        return conf::DownstreamTls::verify;
    }

    static DeliveryOutcome to_queue(const client::DeliveryOutcome& r) {
        DeliveryOutcome out;
        out.connected = r.connected;
        out.mx = r.mx;
        out.error = r.error;
        out.peer_dsn = r.peer_dsn;
        out.lmtp = r.lmtp;
        for (const auto& o : r.rcpts) out.rcpts.push_back({convert(o.result), o.reply});
        return out;
    }

    // TLS-RPT (RFC 8460, docs/tlsrpt.md): the policy a host's session is
    // reported under, gathered while the plan is made.
    struct RptContext {
        bool tlsa = false;
        tlspolicy::RptPolicy policy;
        tlspolicy::SessionFacts facts;

        void dane(const tlspolicy::DaneEffect& eff, const tlspolicy::DanePlan& dp) {
            using tlspolicy::DaneAction;
            if (eff.action == DaneAction::keep_level && dp.state == tlspolicy::DaneState::none) {
                // level dane without DANE for the host is dane_effect's defer;
                // otherwise no TLSA policy: MTA-STS or none decides.
                return;
            }
            tlsa = true;
            policy.type = tlspolicy::RptPolicyType::tlsa;
            policy.mx_hosts = {dp.host};
            for (const auto& rec : dp.usable) policy.strings.push_back(tlspolicy::tlsa_text(rec));
            if (eff.action == DaneAction::defer) {
                if (dp.state == tlspolicy::DaneState::defer) facts.dane_defer = true;
                else facts.dane_required = true;
                facts.error = eff.reason;
            } else if (eff.action == DaneAction::encrypt) {
                facts.tlsa_unusable = true;
            }
        }

        void sts(const tlspolicy::OutboundDecision& d, const std::string& host, const std::string& fetch_error) {
            if (d.sts && d.sts->mode != tlspolicy::StsMode::none) {
                policy.type = tlspolicy::RptPolicyType::sts;
                policy.strings = tlspolicy::sts_policy_strings(*d.sts);
                policy.mx_hosts = d.sts->mx;
                facts.sts_mx_matches = tlspolicy::sts_policy_allows_mx(*d.sts, host);
                facts.mx_refused = !facts.sts_mx_matches && !d.sts_testing;
            } else if (!fetch_error.empty()) {
                policy.type = tlspolicy::RptPolicyType::sts;
                facts.sts_fetch_error = fetch_error;
            }
        }
    };

    bool tlsrpt_on(const server::Snapshot& snap) const {
        return tlsrpt_ && snap.config->tls.outbound.tlsrpt.enabled;
    }

    void record_refusal(const server::Snapshot& snap, const std::string& domain, const std::string& host,
                        RptContext& rpt, const tlspolicy::MxPlan& plan) {
        if (!tlsrpt_on(snap)) return;
        tlspolicy::SessionFacts f = rpt.facts;
        f.tls_wanted = true;
        if (!f.dane_defer && !f.dane_required && !f.mx_refused && f.sts_fetch_error.empty()) return;
        tlspolicy::RptFailure where;
        where.mx_host = host;
        tlsrpt_->record(domain, rpt.policy, tlspolicy::classify_session(f), where, tlspolicy::unix_now());
    }

    void record_session(const server::Snapshot& snap, const std::string& domain, const std::string& host,
                        RptContext& rpt, const tlspolicy::MxPlan& plan, bool dane_used,
                        const client::DeliveryOutcome& r) {
        if (!tlsrpt_on(snap) || !r.tls.new_connection) return;   // a reused connection is not a new session
        tlspolicy::SessionFacts f = session_facts(r);
        f.policy = rpt.policy.type;
        f.tls_wanted = plan.tls != tlspolicy::ClientTls::none || dane_used;
        f.tlsa_unusable = rpt.facts.tlsa_unusable;
        f.dane_used = dane_used;
        f.sts_mx_matches = rpt.facts.sts_mx_matches;
        f.sts_fetch_error = rpt.facts.sts_fetch_error;
        tlspolicy::RptFailure where;
        where.sending_ip = r.local_ip;
        where.mx_host = host;
        where.receiving_ip = peer_ip(r.mx);
        tlsrpt_->record(domain, rpt.policy, tlspolicy::classify_session(f), where, tlspolicy::unix_now());
    }

    // tls.policy (SPEC §9): the decision for this attempt.
    void report_policy(const tlspolicy::OutboundDecision& d, const std::string& qid, const std::string& mx,
                       std::optional<bool> would_fail, const char* reason = nullptr) {
        Event e("tls.policy");
        if (reason) e.set(Field::reason, reason);
        e.set(Field::queue_id, qid)
            .set(Field::domain, d.domain)
            .set(Field::level, tlspolicy::level_name(d.level))
            .set(Field::source, tlspolicy::source_name(d.source));
        if (d.sts) e.set(Field::mode, tlspolicy::sts_mode_name(d.sts->mode));
        if (!mx.empty()) e.set(Field::mx, mx);
        if (would_fail) e.set(Field::would_fail, *would_fail);
        rt_.events->emit(e);
    }

    // Best TLS seen per destination; a weaker delivery after verified TLS is
    // tls.destination_downgrade.
    void remember_tls(const std::string& domain, const client::DeliveryOutcome& r, const std::string& qid,
                      bool tls_ok) {
        if (!tls_memory_) return;
        const TlsGrade g = tls_ok ? TlsGrade::verified
                                  : r.tls.established ? TlsGrade::encrypted : TlsGrade::plaintext;
        const auto prev = tls_memory_->observe(domain, g);
        if (prev && *prev == TlsGrade::verified)
            rt_.events->emit(Event("tls.destination_downgrade")
                                 .set(Field::queue_id, qid)
                                 .set(Field::domain, domain)
                                 .set(Field::mx, r.mx)
                                 .set(Field::tls, grade_name(g))
                                 .set(Field::reason, "earlier deliveries to " + domain + " had verified TLS")
                                 .set(Field::error, r.tls.error));
    }

    static std::string level_of(const conf::Downstream& ds) {
        return ds.tls == conf::DownstreamTls::none ? "none"
               : ds.tls == conf::DownstreamTls::opportunistic ? "opportunistic"
               : ds.tls == conf::DownstreamTls::encrypt ? "encrypt"
               : ds.tls == conf::DownstreamTls::pin ? "pin" : "verify";
    }

    void report_tls(const client::DeliveryOutcome& r, const Route& route, const std::string& qid,
                    const std::string& level) {
        if (!r.tls.new_connection) return;
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
    std::mt19937 rng_{std::random_device{}()};
    uint16_t mx_port_ = 25;
    std::unique_ptr<core::StateStore> sts_cache_;
    std::unique_ptr<TlsMemory> tls_memory_;
    std::unique_ptr<TlsRptRecorder> tlsrpt_;
};

}  // namespace

std::shared_ptr<Courier> make_smtp_courier(server::Runtime& rt) { return std::make_shared<SmtpCourier>(rt); }

}  // namespace mxgate::queue
