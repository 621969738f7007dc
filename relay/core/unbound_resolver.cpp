// relay/core/unbound_resolver.cpp — the libunbound-backed Resolver,
// driven by Asio (no thread blocks on DNS).
//
// Interface: make_unbound_resolver(executor, DnsConfig[, UnboundOptions]).
// One ub_ctx per resolver, in thread mode (ub_ctx_async(ctx, 1)): libunbound
// resolves on its own worker thread and writes finished queries to a pipe
// whose read end (ub_fd) we watch with a posix::stream_descriptor. When it
// is readable, ub_process() runs the callbacks, which complete the waiting
// coroutines on their own executors. Everything that touches the ub_ctx or
// the table of pending queries runs on one strand.
//
//   query() ─▶ async_initiate ─▶ strand: ub_resolve_async + deadline timer
//   pipe readable ─▶ strand: ub_process ─▶ on_result ─▶ post(handler)
//   deadline ─▶ strand: ub_cancel ─▶ post(handler, temp_fail)
//
// Modes (SPEC dns.*, docs/dns.md):
//   dns.resolver nullopt → /etc/resolv.conf + /etc/hosts; else every query
//   is forwarded to that IP:port. dns.dnssec off → iterator only, never
//   authenticated; trust-ad → iterator only, authenticated iff the
//   upstream sets AD, asked by a direct probe (dns_ad_probe.cpp) because
//   libunbound drops that bit; validate → libunbound validates against
//   the root trust anchor (or dns.trust_anchor) itself, authenticated iff
//   secure.
//
// SECURITY: answers come from the network; we only copy RDATA out (parsed
// later by dns_rdata.cpp) and read two header bits. Failures of any kind
// (SERVFAIL, bogus, timeout, libunbound error, resolver shut down) are
// temp_fail with a reason, never nodata/nxdomain. trust-ad trusts whoever
// answers: only meaningful when dns.resolver is a validating resolver
// reached over a trusted path (loopback), RFC 4035 §4.9.3 / RFC 6698 §4.
// Destroying the resolver with queries in flight cancels them (ub_cancel)
// and completes them with temp_fail; the ub_ctx lives until the last
// Asio handler that refers to it has run.
// RFCs: 1035 §4.1.1 (header, RCODE), 4035 §3.2.3 (AD bit), 6840 §5.7.
#include <unbound.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "relay/core/answer_cache.hpp"
#include "relay/core/dns_ad_probe.hpp"
#include "relay/core/resolver.hpp"

namespace mxgate::core {
namespace {

namespace asio = boost::asio;

constexpr int kRcodeNxdomain = 3;  // RFC 1035 §4.1.1
constexpr int kClassIN = 1;

// XXX The root KSK-2017 DS (RFC 7958 format, from IANA's root-anchors.xml).
// Used only for dnssec: validate when the dns-root-data package's
// /usr/share/dns/root.key is absent; a root KSK rollover needs a new build.
constexpr const char* kRootDs =
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";
constexpr const char* kRootKeyFile = "/usr/share/dns/root.key";

DnsReply temp_fail(std::string why) {
    DnsReply r;
    r.status = DnsStatus::temp_fail;
    r.error = std::move(why);
    return r;
}

std::string lower_no_dot(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

// One waiting coroutine's completion handler, type-erased. complete()
// posts the handler to its own executor (never runs it inline on our
// strand) and keeps that executor's work count up while it waits.
struct Completion {
    virtual ~Completion() = default;
    virtual void complete(DnsReply reply) = 0;
};

template <class Handler>
struct HandlerCompletion final : Completion {
    Handler handler;
    asio::any_io_executor work;
    HandlerCompletion(Handler h, const asio::any_io_executor& fallback)
        : handler(std::move(h)),
          work(asio::prefer(asio::get_associated_executor(handler, fallback),
                            asio::execution::outstanding_work.tracked)) {}
    void complete(DnsReply reply) override {
        asio::any_io_executor ex = std::move(work);
        asio::post(ex, [h = std::move(handler), r = std::move(reply)]() mutable { h(std::move(r)); });
    }
};

// Owns the ub_ctx; shared by the UnboundResolver and every handler in
// flight, so it outlives the resolver object until its handlers are gone.
class UnboundEngine : public std::enable_shared_from_this<UnboundEngine> {
public:
    UnboundEngine(asio::any_io_executor ex, const conf::DnsConfig& cfg, const UnboundOptions& opts)
        : strand_(asio::make_strand(ex)), fd_(strand_), mode_(cfg.dnssec), timeout_(opts.timeout) {
        if (mode_ == conf::DnssecMode::trust_ad) probe_target_ = ad_probe_target(cfg);
        ctx_ = ub_ctx_create();
        if (!ctx_) throw std::runtime_error("dns: ub_ctx_create failed");
        try {
            configure(cfg, opts);
            fd_.assign(ub_fd(ctx_));
        } catch (...) {
            fd_.release();
            ub_ctx_delete(ctx_);
            throw;
        }
    }

    ~UnboundEngine() {
        fd_.release();  // the pipe belongs to the ub_ctx: do not close it twice
        ub_ctx_delete(ctx_);
    }

    template <class Handler>
    void start(std::string name, uint16_t type, Handler handler) {
        std::unique_ptr<Completion> done =
            std::make_unique<HandlerCompletion<Handler>>(std::move(handler), strand_);
        asio::dispatch(strand_, [self = shared_from_this(), name = std::move(name), type,
                                 done = std::move(done)]() mutable {
            self->begin(std::move(name), type, std::move(done));
        });
    }

    const asio::strand<asio::any_io_executor>& strand() const { return strand_; }
    // trust-ad: the resolver whose AD bit we believe, and how long to ask.
    const std::optional<asio::ip::udp::endpoint>& probe_target() const { return probe_target_; }
    std::chrono::milliseconds probe_timeout() const { return std::min<std::chrono::milliseconds>(timeout_, std::chrono::seconds(3)); }

    // Called (through the strand) when the resolver object goes away.
    void shutdown() {
        closed_ = true;
        for (auto it = pending_.begin(); it != pending_.end();) {
            Pending& p = *it->second;
            finish_handler(p, temp_fail("dns: resolver shut down"));
            if (ub_cancel(ctx_, p.async_id) == UB_NOERROR)
                it = pending_.erase(it);
            else
                ++it;  // its callback still comes: keep the slot for it
        }
        boost::system::error_code ignored;
        fd_.cancel(ignored);
    }

private:
    struct Pending {
        UnboundEngine* engine;
        uint64_t id;
        int async_id = 0;
        std::unique_ptr<Completion> done;  // null once completed
        asio::steady_timer deadline;
        Pending(UnboundEngine* e, uint64_t i, std::unique_ptr<Completion> d, const asio::strand<asio::any_io_executor>& s)
            : engine(e), id(i), done(std::move(d)), deadline(s) {}
    };

    void configure(const conf::DnsConfig& cfg, const UnboundOptions& opts) {
        check(ub_ctx_async(ctx_, 1), "ub_ctx_async");
        // System resolvers and our test servers live on loopback; libunbound
        // refuses to query 127.0.0.0/8 and ::1 unless told otherwise.
        check(ub_ctx_set_option(ctx_, "do-not-query-localhost:", "no"), "do-not-query-localhost");
        if (cfg.dnssec == conf::DnssecMode::validate) {
            check(ub_ctx_set_option(ctx_, "module-config:", "validator iterator"), "module-config");
            if (!opts.trust_anchor_file.empty())
                check(ub_ctx_add_ta_file(ctx_, opts.trust_anchor_file.c_str()), "trust anchor file");
            else if (!cfg.trust_anchor.empty())  // dns.trust_anchor (docs/dns.md)
                check(ub_ctx_add_ta_file(ctx_, cfg.trust_anchor.c_str()), "dns.trust_anchor " + cfg.trust_anchor);
            else if (std::filesystem::exists(kRootKeyFile))
                check(ub_ctx_add_ta_file(ctx_, kRootKeyFile), "root.key");
            else
                check(ub_ctx_add_ta(ctx_, kRootDs), "root DS");
        } else {
            // trust-ad and off: no local validation. For trust-ad the AD
            // bit comes from probe_ad (dns_ad_probe.cpp): libunbound drops
            // the upstream's AD bit when it re-encodes the answer.
            check(ub_ctx_set_option(ctx_, "module-config:", "iterator"), "module-config");
        }
        if (!cfg.resolver) {
            check(ub_ctx_resolvconf(ctx_, nullptr), "/etc/resolv.conf");
            check(ub_ctx_hosts(ctx_, nullptr), "/etc/hosts");
        } else {
            std::string host = cfg.resolver->host;
            if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
                host = host.substr(1, host.size() - 2);
            const std::string fwd = host + "@" + std::to_string(cfg.resolver->port);
            check(ub_ctx_set_fwd(ctx_, fwd.c_str()), "dns.resolver " + fwd);
        }
        // XXX libunbound answers the RFC 6761 names under "test." itself
        // (NXDOMAIN) and never forwards them; our integration tests serve
        // their zones under .test, so let that one default zone through.
        // (ub_ctx_set_option("local-zone:", "test. nodefault") is accepted
        // but has no effect in 1.17.) This finalizes the ctx: it comes last.
        check(ub_ctx_zone_remove(ctx_, "test."), "local-zone test.");
    }

    static void check(int err, const std::string& what) {
        if (err != UB_NOERROR)
            throw std::runtime_error("dns: " + what + ": " + ub_strerror(err));
    }

    // On the strand.
    void begin(std::string name, uint16_t type, std::unique_ptr<Completion> done) {
        if (closed_) return done->complete(temp_fail("dns: resolver shut down"));
        const uint64_t id = ++next_id_;
        auto owned = std::make_unique<Pending>(this, id, std::move(done), strand_);
        Pending& p = *owned;
        const int err = ub_resolve_async(ctx_, name.c_str(), type, kClassIN, &p, &UnboundEngine::on_result,
                                         &p.async_id);
        if (err != UB_NOERROR)
            return p.done->complete(temp_fail("dns: " + name + ": " + ub_strerror(err)));
        pending_.emplace(id, std::move(owned));
        p.deadline.expires_after(timeout_);
        p.deadline.async_wait([self = shared_from_this(), id](boost::system::error_code ec) {
            if (!ec) self->on_timeout(id);
        });
        arm();
    }

    // Keeps one wait on the pipe while queries are pending. The wait is
    // queued *before* ub_poll() so that a result whose edge-triggered
    // readiness was consumed before the wait existed is still read.
    void arm() {
        if (closed_ || pending_.empty()) return;
        if (!waiting_) {
            waiting_ = true;
            fd_.async_wait(asio::posix::stream_descriptor::wait_read,
                           asio::bind_executor(strand_, [self = shared_from_this()](boost::system::error_code ec) {
                               self->waiting_ = false;
                               if (!ec) self->process();
                               self->arm();
                           }));
        }
        if (ub_poll(ctx_)) process();
    }

    void process() {
        if (const int err = ub_process(ctx_); err != UB_NOERROR) {
            // The pipe to the worker is broken: nothing pending can finish.
            for (auto& [id, p] : pending_) finish_handler(*p, temp_fail(std::string("dns: ") + ub_strerror(err)));
        }
        if (pending_.empty() && waiting_) {
            boost::system::error_code ignored;
            fd_.cancel(ignored);  // let io_context::run() return when idle
        }
    }

    // libunbound callback, run inside ub_process() on the strand. A
    // cancelled query never gets here (ub_cancel contract), so `mydata`
    // points at a live Pending.
    static void on_result(void* mydata, int err, ub_result* result) {
        auto* p = static_cast<Pending*>(mydata);
        UnboundEngine* self = p->engine;
        DnsReply reply = err != UB_NOERROR ? temp_fail(std::string("dns: ") + ub_strerror(err))
                                           : self->convert(*result);
        if (result) ub_resolve_free(result);
        self->finish_handler(*p, std::move(reply));
        const uint64_t id = p->id;
        self->pending_.erase(id);  // destroys *p and cancels its deadline
    }

    void on_timeout(uint64_t id) {
        auto it = pending_.find(id);
        if (it == pending_.end()) return;
        Pending& p = *it->second;
        finish_handler(p, temp_fail("dns: no answer within " + std::to_string(timeout_.count()) + " ms"));
        if (ub_cancel(ctx_, p.async_id) == UB_NOERROR) pending_.erase(it);
        if (pending_.empty() && waiting_) {
            boost::system::error_code ignored;
            fd_.cancel(ignored);
        }
    }

    static void finish_handler(Pending& p, DnsReply reply) {
        if (auto done = std::move(p.done)) done->complete(std::move(reply));
    }

    DnsReply convert(const ub_result& r) const {
        DnsReply out;
        if (r.canonname) out.canonical_name = lower_no_dot(r.canonname);
        if (r.bogus) {
            // RFC 4035 §5.5: bogus data is never used; a later retry may
            // succeed (expired signatures get fixed), so temp_fail.
            out = temp_fail(std::string("dns: DNSSEC validation failed: ") +
                            (r.why_bogus ? r.why_bogus : "bogus"));
            return out;
        }
        if (r.nxdomain || r.rcode == kRcodeNxdomain) {
            out.status = DnsStatus::nxdomain;
        } else if (r.rcode != 0) {
            return temp_fail("dns: server answered rcode " + std::to_string(r.rcode) +
                             (r.rcode == 2 ? " (SERVFAIL)" : r.rcode == 5 ? " (REFUSED)" : ""));
        } else if (!r.havedata) {
            out.status = DnsStatus::nodata;
        } else {
            out.status = DnsStatus::ok;
            for (int i = 0; r.data[i] != nullptr; ++i)
                out.rdata.emplace_back(r.data[i], static_cast<size_t>(r.len[i]));
        }
        out.authenticated = authenticated(r);
        // libunbound's remaining TTL (0 when it says not to cache, e.g. a
        // negative answer without an SOA).
        out.ttl = r.ttl > 0 ? static_cast<uint32_t>(r.ttl) : 0;
        return out;
    }

    bool authenticated(const ub_result& r) const {
        switch (mode_) {
            case conf::DnssecMode::off: return false;
            case conf::DnssecMode::validate: return r.secure != 0;
            case conf::DnssecMode::trust_ad:
                // answer_packet's AD bit is libunbound's own (it is set only
                // when *it* validated), never the upstream's; measured with
                // 1.17.1, see docs/dns.md. UnboundResolver::query asks the
                // upstream with probe_ad instead.
                return false;
        }
        return false;
    }

    asio::strand<asio::any_io_executor> strand_;
    asio::posix::stream_descriptor fd_;
    ub_ctx* ctx_ = nullptr;
    conf::DnssecMode mode_;
    std::chrono::milliseconds timeout_;
    std::optional<asio::ip::udp::endpoint> probe_target_;
    std::map<uint64_t, std::unique_ptr<Pending>> pending_;
    uint64_t next_id_ = 0;
    bool waiting_ = false;
    bool closed_ = false;
};

class UnboundResolver final : public Resolver {
public:
    explicit UnboundResolver(std::shared_ptr<UnboundEngine> engine) : engine_(std::move(engine)) {}
    ~UnboundResolver() override {
        // Completes every query in flight with temp_fail (on the strand).
        auto engine = engine_;
        asio::post(engine->strand(), [engine] { engine->shutdown(); });
    }

    std::optional<DnsReply> cached(const std::string& name, uint16_t type) const override {
        return answers_->get(name, type);
    }

    asio::awaitable<DnsReply> query(std::string name, uint16_t type) override {
        // Answers reused within their TTL (answer_cache.hpp): no round trip
        // to libunbound's thread, no AD probe.
        if (std::optional<DnsReply> hit = answers_->get(name, type)) co_return std::move(*hit);
        // Copy the engine and the cache: after the await `this` may be gone.
        std::shared_ptr<UnboundEngine> engine = engine_;
        std::shared_ptr<AnswerCache> answers = answers_;
        std::string cache_name = name;
        std::string probe_name = engine->probe_target() ? name : std::string();
        // XXX GCC 12 destroys some temporaries of a co_await full-expression
        // twice (here: the lambda's captured shared_ptr, which freed the
        // engine early). Keep every non-trivial operand a named local.
        auto initiation = [engine](auto handler, std::string n, uint16_t t) {
            engine->start(std::move(n), t, std::move(handler));
        };
        auto op = asio::async_initiate<const asio::use_awaitable_t<>&, void(DnsReply)>(
            std::move(initiation), asio::use_awaitable, std::move(name), type);
        DnsReply reply = co_await std::move(op);
        // The TTL counts from libunbound's answer, not from the probe's.
        const AnswerCache::Clock::time_point answered = AnswerCache::Clock::now();
        bool keep = true;
        if (engine->probe_target() && reply.status != DnsStatus::temp_fail) {
            auto probe = probe_ad(*engine->probe_target(), std::move(probe_name), type, reply.status,
                                  engine->probe_timeout());
            const std::optional<bool> ad = co_await std::move(probe);
            reply.authenticated = ad.value_or(false);
            keep = ad.has_value();  // no AD verdict: ask again next time
        }
        if (keep) answers->put(cache_name, type, reply, answered);
        co_return reply;
    }

private:
    std::shared_ptr<UnboundEngine> engine_;
    std::shared_ptr<AnswerCache> answers_ = std::make_shared<AnswerCache>();
};

}  // namespace

std::shared_ptr<Resolver> make_unbound_resolver(asio::any_io_executor ex, const conf::DnsConfig& cfg,
                                                const UnboundOptions& opts) {
    return std::make_shared<UnboundResolver>(std::make_shared<UnboundEngine>(std::move(ex), cfg, opts));
}

std::shared_ptr<Resolver> make_unbound_resolver(asio::any_io_executor ex, const conf::DnsConfig& cfg) {
    return make_unbound_resolver(std::move(ex), cfg, UnboundOptions{});
}

}  // namespace mxgate::core
