// tests/unit/server/dialog_test.cpp — SMTP dialog transcripts (STYLE §3,
// like chasquid's test/t-12-minor_dialogs/*.cmy).
//
// Each tests/unit/server/dialogs/*.dialog runs against the real session
// code: server::bind_listener + server::accept_loop on a loopback port, a
// Runtime over a memory spool, a StaticResolver, a QueueManager whose fake
// courier defers everything (so accepted mail stays in the spool), and a
// Config built in code. Three listeners: "mx" (tls: none), "mx-tls"
// (tls: starttls, with a self-signed certificate made for the test run) and
// "submission" (role submission, starttls; a sasldb with the user alice,
// password "alice-pw", made for the test run; fresh auth state per dialog).
//
// Transcript syntax, one directive per line:
//   # text              comment; blank lines are ignored too
//   @listener NAME      (first lines only) connect to "mx" (default), "mx-tls" or "submission"
//   @known-bug TEXT     the dialog is expected to FAIL because of the bug TEXT
//                       describes; it fails the test once it passes (remove
//                       the line when the bug is fixed)
//   > TEXT              send TEXT followed by CRLF
//   >> TEXT             send TEXT as is (no CRLF appended)
//   < PREFIX            read the next reply line; it must start with PREFIX
//   ! tls               run a TLS handshake (after "220 2.0.0 Ready to start TLS")
//   ! closed            the server closes the connection (nothing more is read)
//   ! event NAME        an event NAME was emitted (waits up to 2 s)
//   ! no-event NAME     no event NAME was emitted so far
//   ! spool N           exactly N messages are in the spool
//   ! message TEXT      the last spooled message (prepend + body) contains TEXT
//   ! no-message TEXT   ... does not contain TEXT
//   *N DIRECTIVE        repeat DIRECTIVE N times
// In TEXT: \r \n \t \\ \xHH escapes, and {{STR*N}} repeats STR N times.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "auth/auth.hpp"
#include "relay/server/listener.hpp"
#include "tests/unit/queue/queue_test_support.hpp"
#include "tlspolicy/tlspolicy.hpp"

using namespace queuetest;

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- escapes

std::string expand_repeats(const std::string& s) {
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
        const size_t open = s.find("{{", i);
        if (open == std::string::npos) break;
        const size_t close = s.find("}}", open);
        const size_t star = s.rfind('*', close);
        if (close == std::string::npos || star == std::string::npos || star < open) break;
        out += s.substr(i, open - i);
        const std::string what = s.substr(open + 2, star - open - 2);
        const int n = std::stoi(s.substr(star + 1, close - star - 1));
        for (int k = 0; k < n; ++k) out += what;
        i = close + 2;
    }
    out += s.substr(i);
    return out;
}

std::string unescape(const std::string& raw) {
    const std::string s = expand_repeats(raw);
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out += s[i];
            continue;
        }
        const char c = s[++i];
        switch (c) {
            case 'r': out += '\r'; break;
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case '\\': out += '\\'; break;
            case 'x': {
                REQUIRE(i + 2 < s.size() + 0);
                out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
                i += 2;
                break;
            }
            default: out += '\\'; out += c;
        }
    }
    return out;
}

std::string visible(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (c < 32 || c >= 127) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02X", c);
            out += b;
        } else out += static_cast<char>(c);
    }
    return out;
}

// ---------------------------------------------------------------- server

struct TlsFiles {
    std::string dir, cert, key;
    TlsFiles() {
        std::string t = "/tmp/mxgate-dialog-tls-XXXXXX";
        REQUIRE(::mkdtemp(t.data()));
        dir = t;
        cert = dir + "/cert.pem";
        key = dir + "/key.pem";
    }
    ~TlsFiles() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

TlsFiles& tls_files() {
    static TlsFiles f;
    return f;
}

tlspolicy::ContextPtr server_tls_context() {
    static tlspolicy::ContextPtr ctx = [] {
        std::string err;
        auto& f = tls_files();
        REQUIRE(tlspolicy::ensure_self_signed(f.cert, f.key, "mx.test.example", err));
        conf::TlsProfile p;
        p.name = conf::TlsProfileName::modern;
        auto c = tlspolicy::make_server_context(p, f.cert, f.key, err);
        INFO(err);
        REQUIRE(c);
        return c;
    }();
    return ctx;
}

std::shared_ptr<conf::Config> dialog_config() {
    auto cfg = std::make_shared<conf::Config>();
    cfg->hostname = "mx.test.example";
    cfg->spool = "";
    // one.example: two known users, home box on loopback (ETRN allowed here).
    conf::Domain one = owner_domain("one.example", "127.0.0.1");
    one.recipients = {"bob@one.example", "carol@one.example"};
    // two.example: everybody, home box elsewhere (ETRN refused from here).
    conf::Domain two = owner_domain("two.example", "192.0.2.2");
    // three.example: the home box by name, resolved at ETRN time.
    conf::Domain three = owner_domain("three.example", "home.three.example");
    cfg->domains = {one, two, three};
    cfg->limits.message_size = 10000;
    cfg->limits.recipients = 3;
    cfg->limits.timeouts.command = std::chrono::seconds(5);
    cfg->limits.timeouts.data_block = std::chrono::seconds(5);
    cfg->limits.timeouts.tls_handshake = std::chrono::seconds(5);
    cfg->queue.retry = {std::chrono::seconds(3600)};
    // The dialogs are about SMTP, not sender authentication (SPEC §6 has
    // its own tests): no DMARC, SPF or DKIM, so no DNS at end of data.
    cfg->policy.dmarc_enforce = false;
    cfg->policy.spf = false;
    cfg->policy.dkim_verify = false;
    conf::Listener mx;
    mx.name = "mx";
    mx.address = conf::HostPort{"127.0.0.1", 0};
    mx.tls = conf::ListenerTls::none;
    conf::Listener mxtls = mx;
    mxtls.name = "mx-tls";
    mxtls.tls = conf::ListenerTls::starttls;
    conf::Listener sub = mxtls;
    sub.name = "submission";
    sub.role = conf::ListenerRole::submission;
    cfg->listeners = {mx, mxtls, sub};
    cfg->auth.sasldb = tls_files().dir + "/sasldb2";
    cfg->auth.senders = {{"alice", {"alice@one.example"}}};
    cfg->auth.lockout_failures = 2;
    return cfg;
}

// The sasldb of the submission dialogs, made once with libsasl2.
void ensure_sasldb(const conf::Config& cfg) {
    static const bool made = [&] {
        std::string err;
        const bool ok = auth::set_user_password(auth::Service::options(cfg, 0), "alice", "alice-pw",
                                                auth::UserOp::add, err);
        INFO(err);
        REQUIRE(ok);
        return ok;
    }();
    (void)made;
}

// The server side of one dialog: a fresh runtime and listeners, run by one
// thread until the fixture is destroyed.
struct DialogServer {
    asio::io_context io;
    std::shared_ptr<core::CaptureSink> events = std::make_shared<core::CaptureSink>();
    std::shared_ptr<spool::Spool> spool = spool::make_memory_spool();
    std::shared_ptr<core::StaticResolver> resolver = std::make_shared<core::StaticResolver>();
    std::shared_ptr<FakeCourier> courier = std::make_shared<FakeCourier>();
    std::unique_ptr<server::Runtime> rt;
    std::unique_ptr<queue::QueueManager> qm;
    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors;
    std::map<std::string, uint16_t> ports;
    std::thread thread;

    DialogServer() {
        courier->fallback = queue::RcptResult::transient;
        resolver->add_record("home.three.example", core::rrtype::A, std::string("\x7f\x00\x00\x01", 4));
        resolver->add("home.three.example", core::rrtype::AAAA, core::DnsReply{core::DnsStatus::nodata, false, {}, "", ""});
        auto cfg = dialog_config();
        auto snap = std::make_shared<server::Snapshot>();
        snap->config = cfg;
        snap->server_tls = server_tls_context();
        rt = std::make_unique<server::Runtime>(io, events, spool, resolver, snap);
        ensure_sasldb(*cfg);
        std::string state = tls_files().dir + "/auth-XXXXXX";
        REQUIRE(::mkdtemp(state.data()));
        rt->auth = std::make_shared<auth::Service>(state);
        qm = std::make_unique<queue::QueueManager>(*rt, courier);
        rt->queue = qm.get();
        qm->start();
        for (const auto& l : cfg->listeners) {
            acceptors.push_back(
                std::make_unique<asio::ip::tcp::acceptor>(server::bind_listener(io, l.address, l.name)));
            ports[l.name] = acceptors.back()->local_endpoint().port();
            asio::co_spawn(io, server::accept_loop(*rt, l.name, *acceptors.back()), asio::detached);
        }
        thread = std::thread([this] {
            auto guard = asio::make_work_guard(io);
            io.run();
        });
    }

    // Waits until every session ended (its slot released), then stops.
    ~DialogServer() {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (rt->connections.total() > 0 && std::chrono::steady_clock::now() < end)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        CHECK(rt->connections.total() == 0);
        asio::post(io, [this] {
            for (auto& a : acceptors) a->close();
        });
        qm->stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        io.stop();
        thread.join();
        qm.reset();
        rt.reset();
    }

    bool wait_event(const std::string& name, std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (events->named(name).empty()) {
            if (std::chrono::steady_clock::now() >= end) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return true;
    }
};

// ---------------------------------------------------------------- client

// A blocking client with a receive deadline, plaintext or TLS.
class Client {
public:
    explicit Client(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        timeval tv{3, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    ~Client() {
        if (ssl_) SSL_free(ssl_);
        if (ctx_) SSL_CTX_free(ctx_);
        if (fd_ >= 0) ::close(fd_);
    }

    bool send(const std::string& data) {
        size_t off = 0;
        while (off < data.size()) {
            const long n = ssl_ ? SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off))
                                : ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return false;
            off += static_cast<size_t>(n);
        }
        return true;
    }

    // Next CRLF-terminated line (without CRLF); nullopt on EOF or timeout
    // (eof_ tells which).
    std::optional<std::string> line() {
        for (;;) {
            const size_t p = buf_.find("\r\n");
            if (p != std::string::npos) {
                std::string l = buf_.substr(0, p);
                buf_.erase(0, p + 2);
                return l;
            }
            if (!fill()) return std::nullopt;
        }
    }

    // True when the peer closed without sending anything more.
    bool closed(std::string& extra) {
        while (fill()) {
        }
        extra = buf_;
        return eof_ && buf_.empty();
    }

    bool handshake() {
        ctx_ = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        SSL_set_tlsext_host_name(ssl_, "mx.test.example");
        return SSL_connect(ssl_) == 1;
    }
    bool tls() const { return ssl_ != nullptr; }
    const std::string& pending() const { return buf_; }

private:
    bool fill() {
        char tmp[4096];
        const long n = ssl_ ? SSL_read(ssl_, tmp, sizeof tmp) : ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) {
            eof_ = n == 0 || (ssl_ && SSL_get_error(ssl_, static_cast<int>(n)) == SSL_ERROR_ZERO_RETURN) ||
                   (n < 0 && errno == ECONNRESET);
            if (ssl_ && !eof_ && errno != EAGAIN && errno != EWOULDBLOCK) eof_ = true;
            return false;
        }
        buf_.append(tmp, static_cast<size_t>(n));
        return true;
    }

    int fd_ = -1;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    std::string buf_;
    bool eof_ = false;
};

// ---------------------------------------------------------------- runner

struct Step {
    int line = 0;
    std::string op;   // ">", ">>", "<", "!"
    std::string arg;
};

std::vector<Step> parse_dialog(const std::string& path, std::string& listener, std::string* known_bug = nullptr) {
    std::ifstream in(path);
    REQUIRE(in);
    std::vector<Step> steps;
    std::string l;
    int n = 0;
    while (std::getline(in, l)) {
        ++n;
        if (!l.empty() && l.back() == '\r') l.pop_back();
        if (l.empty() || l[0] == '#') continue;
        int repeat = 1;
        if (l[0] == '*') {
            const size_t sp = l.find(' ');
            REQUIRE(sp != std::string::npos);
            repeat = std::stoi(l.substr(1, sp - 1));
            l = l.substr(sp + 1);
        }
        if (l.rfind("@listener ", 0) == 0) {
            listener = l.substr(10);
            continue;
        }
        if (l.rfind("@known-bug ", 0) == 0) {
            if (known_bug) *known_bug = l.substr(11);
            continue;
        }
        Step s;
        s.line = n;
        for (const char* op : {">> ", "> ", "< ", "! "})
            if (l.rfind(op, 0) == 0) {
                s.op = std::string(op, std::strlen(op) - 1);
                s.arg = l.substr(std::strlen(op));
                break;
            }
        if (s.op.empty() && (l == ">" || l == "<")) s.op = l;  // send an empty line / expect any line
        INFO(path << ":" << n << ": " << l);
        REQUIRE(!s.op.empty());
        for (int k = 0; k < repeat; ++k) steps.push_back(s);
    }
    return steps;
}

std::optional<spool::QueuedMessage> last_message(spool::Spool& sp, std::string& text) {
    auto ids = sp.list(false);
    if (ids.empty()) return std::nullopt;
    auto m = sp.load(ids.back());
    if (!m) return std::nullopt;
    std::string body;
    sp.read_body(ids.back(), body);
    text = m->envelope.prepend + body;
    return m;
}

// Runs one transcript; returns "" or what went wrong, with file:line.
std::string run_dialog(const std::string& path) {
    std::string listener = "mx";
    const auto steps = parse_dialog(path, listener);
    DialogServer srv;
    if (srv.ports.count(listener) != 1) return "unknown listener " + listener;
    Client client(srv.ports[listener]);
    const std::string name = fs::path(path).filename().string();
    for (const auto& s : steps) {
        const std::string where = name + ":" + std::to_string(s.line) + ": " + s.op + " " + s.arg + ": ";
        if (s.op == ">" || s.op == ">>") {
            const std::string data = unescape(s.arg) + (s.op == ">" ? "\r\n" : "");
            if (!client.send(data)) return where + "send failed";
        } else if (s.op == "<") {
            const auto got = client.line();
            if (!got) {
                std::string seen;
                for (const auto& e : srv.events->events()) seen += " " + e.name;
                return where + "no reply line (unread: " + visible(client.pending()) + "; events:" + seen + ")";
            }
            if (got->rfind(unescape(s.arg), 0) != 0) return where + "got: " + visible(*got);
        } else {
            std::istringstream a(s.arg);
            std::string what, rest;
            a >> what;
            std::getline(a, rest);
            if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
            if (what == "tls") {
                if (!client.handshake()) return where + "TLS handshake failed";
            } else if (what == "closed") {
                std::string extra;
                if (!client.closed(extra)) return where + "not closed (unread: " + visible(extra) + ")";
            } else if (what == "event") {
                if (!srv.wait_event(rest, std::chrono::seconds(2))) return where + "no such event";
            } else if (what == "no-event") {
                if (!srv.events->named(rest).empty()) return where + "event was emitted";
            } else if (what == "spool") {
                // Commits finish before their 250 is sent, so this is exact.
                const size_t n = srv.spool->list(false).size();
                if (n != std::stoul(rest)) return where + std::to_string(n) + " messages in the spool";
            } else if (what == "message" || what == "no-message") {
                std::string text;
                if (!last_message(*srv.spool, text)) return where + "no message in the spool";
                const bool found = text.find(unescape(rest)) != std::string::npos;
                if (found != (what == "message")) return where + "message: " + visible(text.substr(0, 800));
            } else {
                return where + "unknown directive " + what;
            }
        }
    }
    return "";
}

std::vector<std::string> dialog_files() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(std::string(MXGATE_SOURCE_DIR) + "/tests/unit/server/dialogs"))
        if (e.path().extension() == ".dialog") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("dialog transcripts", "[dialog]") {
    const auto files = dialog_files();
    REQUIRE(files.size() >= 15);
    for (const auto& f : files) {
        DYNAMIC_SECTION(fs::path(f).filename().string()) {
            std::string listener, known_bug;
            parse_dialog(f, listener, &known_bug);
            const std::string result = run_dialog(f);
            if (known_bug.empty()) {
                CHECK(result == "");
            } else {
                INFO("known bug: " << known_bug);
                INFO("this dialog now passes: the bug is fixed, remove its @known-bug line");
                CHECK(result != "");
                WARN("known bug still present: " << known_bug << " -- " << result);
            }
        }
    }
}

// The runner itself: transcripts that expect the wrong thing must fail, so
// a broken runner cannot pass every dialog vacuously.
TEST_CASE("dialog runner: wrong expectations fail", "[dialog][control]") {
    const std::string dir = tls_files().dir;
    const std::pair<const char*, const char*> cases[] = {
        {"wrong-greeting", "< 554 \n"},
        {"wrong-reply", "< 220 \n> NOOP\n< 500\n"},
        {"not-closed", "< 220 \n> NOOP\n! closed\n"},
        {"no-event", "< 220 \n! event queue.accepted\n"},
        {"spool-count", "< 220 \n! spool 1\n"},
        {"extra-line", "< 220 \n> NOOP\n< 250 2.0.0\n< 250\n"},
    };
    for (const auto& [name, text] : cases) {
        const std::string path = dir + "/" + name + ".dialog";
        {
            std::ofstream out(path);
            out << text;
        }
        INFO(name);
        CHECK_FALSE(run_dialog(path).empty());
    }
    // And the right expectations pass.
    const std::string ok = dir + "/ok.dialog";
    {
        std::ofstream out(ok);
        out << "< 220 mx.test.example ESMTP\n> NOOP\n< 250 2.0.0 Ok\n> QUIT\n< 221\n! closed\n! spool 0\n";
    }
    CHECK(run_dialog(ok) == "");
    CHECK(unescape("A\\r\\n\\x00\\\\{{ab*3}}") == std::string("A\r\n\0\\ababab", 11));
}
