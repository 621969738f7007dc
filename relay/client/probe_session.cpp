// relay/client/probe_session.cpp — the prober's order of checks and its
// connections: every check gets a fresh connection, so one server's
// reaction to an odd handshake never colours the next answer.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "relay/client/connect.hpp"
#include "relay/client/probe_impl.hpp"

namespace mxgate::client::probe {

namespace asio = boost::asio;

namespace {

// The prober wants to see every certificate, trusted or not; the verdict is
// read afterwards from SSL_get_verify_result().
int continue_always(int, X509_STORE_CTX*) { return 1; }

}  // namespace

std::string sanitize(std::string_view s, size_t max) {
    std::string out;
    for (char c : s) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7f) ? c : (c == '\n' ? ' ' : '?');
    }
    return out;
}

const char* status_name(Status s) {
    switch (s) {
        case Status::pass: return "PASS";
        case Status::warn: return "WARN";
        case Status::fail: return "FAIL";
        case Status::skip: return "SKIP";
    }
    return "SKIP";
}

bool Report::failed() const { return count(Status::fail) > 0; }

int Report::count(Status s) const {
    int n = 0;
    for (const auto& c : checks)
        if (c.status == s) ++n;
    return n;
}

void Prober::add(std::string id, std::string title, Status st, std::string evidence) {
    out_.checks.push_back(Check{std::move(id), std::move(title), st, sanitize(evidence, 600)});
}

asio::awaitable<void> Prober::run() {
    std::string error;
    auto op = resolve_host(resolver_, opts_.host, error);
    const auto addrs = co_await std::move(op);
    if (addrs.empty()) {
        out_.target = opts_.host + ":" + std::to_string(opts_.port);
        add("connect", "server reachable", Status::fail, error);
        co_return;
    }
    address_ = addrs.front().to_string();
    out_.target = opts_.host + "[" + address_ + "]:" + std::to_string(opts_.port);
    const std::string& name = opts_.names.empty() ? opts_.host : opts_.names.front();
    sni_ = is_ip_literal(name) ? std::string() : strip_brackets(name);

    const bool reachable = co_await check_plaintext();
    if (!reachable) co_return;
    if (starttls_) {
        co_await check_certificate();
        co_await check_versions();
        co_await check_ciphers();
        if (!opts_.implicit_tls) co_await check_injection();
    }
    if (opts_.smuggling_rcpt) co_await check_smuggling();
    if (opts_.domain) co_await check_domain();
}

std::shared_ptr<asio::ssl::context> Prober::make_context(int min, int max, const std::string& ciphers,
                                                         std::string& error) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX* native = ctx->native_handle();
    ERR_clear_error();
    SSL_CTX_clear_options(native, SSL_OP_NO_SSL_MASK);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
    const std::string list = ciphers + ":@SECLEVEL=0";
    if (SSL_CTX_set_min_proto_version(native, min) != 1 || SSL_CTX_set_max_proto_version(native, max) != 1) {
        error = "this OpenSSL cannot offer " + tlspolicy::protocol_name(min);
        return nullptr;
    }
    if (SSL_CTX_set_cipher_list(native, list.c_str()) != 1) {
        ERR_clear_error();
        error = "this OpenSSL build cannot offer \"" + ciphers + "\"";
        return nullptr;
    }
    if (opts_.ca_file == "system") {
        SSL_CTX_set_default_verify_paths(native);
    } else if (SSL_CTX_load_verify_locations(native, opts_.ca_file.c_str(), nullptr) != 1) {
        ERR_clear_error();
        error = "cannot load CA file " + opts_.ca_file;
        return nullptr;
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, &continue_always);
    SSL_CTX_set_verify_depth(native, 10);
    return ctx;
}

asio::awaitable<std::unique_ptr<SmtpSession>> Prober::open_plain(std::string& error) {
    conf::HostPort hp{address_, opts_.port};
    auto op = connect_host(ex_, resolver_, hp, opts_.timeouts.connect);
    ConnectResult c = co_await std::move(op);
    if (!c.socket) {
        error = c.error;
        co_return nullptr;
    }
    auto s = std::make_unique<SmtpSession>(std::move(*c.socket), out_.target, false, opts_.timeouts);
    if (opts_.implicit_tls) {
        std::string e;
        auto ctx = make_context(TLS1_VERSION, 0, "ALL", e);
        if (!ctx) {
            error = e;
            co_return nullptr;
        }
        const bool hs = co_await s->handshake(*ctx, sni_);
        if (!hs) {
            error = s->error();
            co_return nullptr;
        }
    }
    const bool greeted = co_await s->greet();
    if (!greeted) {
        error = s->error();
        co_return nullptr;
    }
    const bool said_hello = co_await s->hello(opts_.ehlo_name);
    if (!said_hello) {
        error = s->error();
        co_return nullptr;
    }
    co_return s;
}

asio::awaitable<TlsAttempt> Prober::try_tls(asio::ssl::context& ctx) {
    TlsAttempt a;
    std::unique_ptr<SmtpSession> s;
    if (opts_.implicit_tls) {
        conf::HostPort hp{address_, opts_.port};
        auto op = connect_host(ex_, resolver_, hp, opts_.timeouts.connect);
        ConnectResult c = co_await std::move(op);
        if (!c.socket) {
            a.error = c.error;
            co_return a;
        }
        s = std::make_unique<SmtpSession>(std::move(*c.socket), out_.target, false, opts_.timeouts);
        a.reached = true;
    } else {
        auto op = open_plain(a.error);
        s = co_await std::move(op);
        if (!s) co_return a;
        if (!s->caps().starttls) {
            a.error = "STARTTLS not offered";
            co_await close(s);
            co_return a;
        }
        core::Reply r;
        const bool ready = co_await s->starttls_command(r);
        if (!ready) {
            a.error = s->usable() ? "STARTTLS answered " + reply_text(r) : s->error();
            co_await close(s);
            co_return a;
        }
        a.reached = true;
    }
    const bool hs = co_await s->handshake(ctx, sni_);
    if (!hs) {
        const std::string prefix = "TLS handshake with " + out_.target + " failed: ";
        a.error = s->error().rfind(prefix, 0) == 0 ? s->error().substr(prefix.size()) : s->error();
        s->abort();
        co_return a;
    }
    a.established = true;
    SSL* ssl = s->stream().native_ssl();
    a.info = tlspolicy::describe(ssl);
    if (X509* leaf = SSL_get1_peer_certificate(ssl)) a.leaf = X509Ptr(leaf, X509_free);
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
        for (int i = 0; i < sk_X509_num(chain); ++i) {
            X509* c = sk_X509_value(chain, i);
            X509_up_ref(c);
            a.chain.emplace_back(c, X509_free);
        }
    }
    co_await close(s);
    co_return a;
}

asio::awaitable<void> Prober::close(std::unique_ptr<SmtpSession>& s) {
    if (!s) co_return;
    if (s->usable()) {
        auto op = s->quit();
        co_await std::move(op);
    } else {
        s->abort();
    }
    s.reset();
}

asio::awaitable<Report> run(asio::any_io_executor ex, core::Resolver& resolver, Options opts) {
    Report r;
    Prober p(std::move(ex), resolver, std::move(opts), r);
    co_await p.run();
    co_return r;
}

}  // namespace mxgate::client::probe
