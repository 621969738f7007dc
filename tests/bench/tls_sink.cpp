// tests/bench/tls_sink.cpp — a STARTTLS-capable SMTP sink and its load
// client, for outbound_tls_bench.py (docs/performance-outbound-tls.md).
//
// Debian's smtp-sink has no STARTTLS, and a second Postfix as the receiving
// MX would queue (and fsync) every message, so it could be the bottleneck
// of a benchmark about the *sending* side. This sink accepts and discards:
//
//   tls_sink serve ADDRESS PORT CERT KEY
//       One thread per connection, blocking sockets/OpenSSL. Advertises
//       PIPELINING, 8BITMIME, SIZE and STARTTLS (not CHUNKING); answers 250
//       to everything, 354 to DATA, 221 to QUIT. Whenever a counter changes
//       it prints (at most every 10 ms) one line on stdout:
//         conn=N tls=N resumed=N mesg=N
//       conn: connections accepted; tls: completed TLS handshakes; resumed:
//       of those, abbreviated (session resumption); mesg: messages received
//       completely (final "." seen and answered).
//
//   tls_sink blast HOST PORT CONNECTIONS MESSAGES SIZE
//       The sink's ceiling: CONNECTIONS threads, each one STARTTLS session
//       that sends its share of MESSAGES (SIZE bytes of body each) one
//       after another (MAIL, RCPT, DATA pipelined, then the body), like a
//       relay reusing its connection. Prints JSON:
//         {"messages":..,"elapsed_s":..,"per_s":..}
//
// Not a test; never run by ctest (STYLE.md §3).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<long> g_conn{0}, g_tls{0}, g_resumed{0}, g_mesg{0};
std::atomic<bool> g_dirty{false};

void bump(std::atomic<long>& c) {
    c.fetch_add(1, std::memory_order_relaxed);
    g_dirty.store(true, std::memory_order_release);
}

// A connection that is plain until start_tls(); line reads and buffered
// writes over either.
class Conn {
public:
    explicit Conn(int fd) : fd_(fd) {}
    ~Conn() {
        if (ssl_) SSL_free(ssl_);
        ::close(fd_);
    }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    bool accept_tls(SSL_CTX* ctx) {
        ssl_ = SSL_new(ctx);
        SSL_set_fd(ssl_, fd_);
        in_.clear();  // RFC 3207: nothing sent before the handshake counts
        pos_ = 0;
        return SSL_accept(ssl_) == 1;
    }
    bool connect_tls(SSL_CTX* ctx) {
        ssl_ = SSL_new(ctx);
        SSL_set_fd(ssl_, fd_);
        in_.clear();
        pos_ = 0;
        return SSL_connect(ssl_) == 1;
    }
    bool reused() const { return ssl_ && SSL_session_reused(ssl_); }

    // Next line without CRLF, false at EOF/error.
    bool line(std::string& out) {
        for (;;) {
            size_t eol = in_.find("\r\n", pos_);
            if (eol != std::string::npos) {
                out.assign(in_, pos_, eol - pos_);
                pos_ = eol + 2;
                return true;
            }
            if (!fill()) return false;
        }
    }
    // Consumes message data up to and including "\r\n.\r\n" (the DATA
    // command's CRLF precedes the first line, so the search starts there).
    bool skip_data() {
        // pos_ sits at the start of a line: the terminator may be the first line.
        while (in_.size() - pos_ < 3)
            if (!fill()) return false;
        if (in_.compare(pos_, 3, ".\r\n") == 0) {
            pos_ += 3;
            return true;
        }
        for (;;) {
            size_t end = in_.find("\r\n.\r\n", pos_);
            if (end != std::string::npos) {
                pos_ = end + 5;
                return true;
            }
            // Keep the last 4 bytes: the terminator may straddle reads.
            if (in_.size() - pos_ > 4) pos_ = in_.size() - 4;
            if (!fill()) return false;
        }
    }
    bool has_buffered_line() const { return in_.find("\r\n", pos_) != std::string::npos; }

    void put(const char* s) { out_ += s; }
    bool flush() {
        size_t off = 0;
        while (off < out_.size()) {
            ssize_t n = ssl_ ? SSL_write(ssl_, out_.data() + off, static_cast<int>(out_.size() - off))
                             : ::send(fd_, out_.data() + off, out_.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return false;
            off += static_cast<size_t>(n);
        }
        out_.clear();
        return true;
    }

private:
    bool fill() {
        if (pos_ > 0) {
            in_.erase(0, pos_);
            pos_ = 0;
        }
        char buf[16384];
        ssize_t n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return false;
        in_.append(buf, static_cast<size_t>(n));
        return true;
    }

    int fd_;
    SSL* ssl_ = nullptr;
    std::string in_;
    size_t pos_ = 0;
    std::string out_;
};

bool starts_ci(const std::string& s, const char* p) {
    return strncasecmp(s.c_str(), p, std::strlen(p)) == 0;
}

void serve_session(int fd, SSL_CTX* ctx) {
    Conn c(fd);
    bool tls = false;
    c.put("220 sink.bench.test ESMTP tls_sink\r\n");
    if (!c.flush()) return;
    std::string l;
    while (c.line(l)) {
        if (starts_ci(l, "EHLO")) {
            c.put(tls ? "250-sink.bench.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n"
                      : "250-sink.bench.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 104857600\r\n"
                        "250 STARTTLS\r\n");
        } else if (starts_ci(l, "STARTTLS") && !tls) {
            c.put("220 2.0.0 Ready to start TLS\r\n");
            if (!c.flush() || !c.accept_tls(ctx)) return;
            tls = true;
            if (c.reused()) bump(g_resumed);
            bump(g_tls);
            continue;
        } else if (starts_ci(l, "DATA")) {
            c.put("354 End data with <CR><LF>.<CR><LF>\r\n");
            if (!c.flush() || !c.skip_data()) return;
            c.put("250 2.0.0 Ok: discarded\r\n");
            bump(g_mesg);  // counted before the reply is sent: the relay has handed it over
        } else if (starts_ci(l, "QUIT")) {
            c.put("221 2.0.0 Bye\r\n");
            c.flush();
            return;
        } else {
            c.put("250 2.0.0 Ok\r\n");  // HELO, MAIL, RCPT, RSET, NOOP, ...
        }
        // PIPELINING: answer a group of commands together.
        if (!c.has_buffered_line() && !c.flush()) return;
    }
}

int listen_on(const char* host, int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd, 1024) != 0) {
        std::perror("tls_sink: bind/listen");
        std::exit(1);
    }
    return fd;
}

int serve(const char* host, int port, const char* cert, const char* key) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>("tls_sink"), 8);
    int lfd = listen_on(host, port);
    std::thread([] {
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (g_dirty.exchange(false, std::memory_order_acq_rel)) {
                std::printf("conn=%ld tls=%ld resumed=%ld mesg=%ld\n", g_conn.load(), g_tls.load(), g_resumed.load(),
                            g_mesg.load());
                std::fflush(stdout);
            }
        }
    }).detach();
    std::printf("conn=0 tls=0 resumed=0 mesg=0\n");
    std::fflush(stdout);
    for (;;) {
        int fd = ::accept(lfd, nullptr, nullptr);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        bump(g_conn);
        std::thread(serve_session, fd, ctx).detach();
    }
}

// ---------------------------------------------------------------- blast

int expect(Conn& c, int want) {
    std::string l;
    for (;;) {
        if (!c.line(l) || l.size() < 3) return 0;
        if (l.size() == 3 || l[3] == ' ') return std::atoi(l.substr(0, 3).c_str()) == want ? want : 0;
    }
}

int blast(const char* host, int port, int conns, long messages, long size) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    std::string body = "From: blast@source.test\r\nTo: user@dest.test\r\nSubject: blast\r\n\r\n";
    std::string row(76, 'x');
    row += "\r\n";
    while (static_cast<long>(body.size()) < size) body += row;
    body += ".\r\n";
    std::atomic<long> sent{0};
    std::atomic<int> failed{0};
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> ts;
    for (int i = 0; i < conns; ++i) {
        long share = messages / conns + (i < messages % conns ? 1 : 0);
        ts.emplace_back([&, share] {
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(static_cast<uint16_t>(port));
            inet_pton(AF_INET, host, &a.sin_addr);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
                ::close(fd);
                ++failed;
                return;
            }
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            Conn c(fd);
            c.put("EHLO blast.test\r\n");
            if (!expect(c, 220) || !c.flush() || !expect(c, 250)) return void(++failed);
            c.put("STARTTLS\r\n");
            if (!c.flush() || !expect(c, 220) || !c.connect_tls(ctx)) return void(++failed);
            c.put("EHLO blast.test\r\n");
            if (!c.flush() || !expect(c, 250)) return void(++failed);
            for (long m = 0; m < share; ++m) {
                c.put("MAIL FROM:<blast@source.test>\r\nRCPT TO:<user@dest.test>\r\nDATA\r\n");
                if (!c.flush() || !expect(c, 250) || !expect(c, 250) || !expect(c, 354)) return void(++failed);
                c.put(body.c_str());
                if (!c.flush() || !expect(c, 250)) return void(++failed);
                ++sent;
            }
            c.put("QUIT\r\n");
            c.flush();
        });
    }
    for (auto& t : ts) t.join();
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"messages\":%ld,\"failed_connections\":%d,\"elapsed_s\":%.4f,\"per_s\":%.1f}\n", sent.load(),
                failed.load(), el, sent.load() / el);
    return failed.load() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    if (argc == 6 && std::strcmp(argv[1], "serve") == 0)
        return serve(argv[2], std::atoi(argv[3]), argv[4], argv[5]);
    if (argc == 7 && std::strcmp(argv[1], "blast") == 0)
        return blast(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atol(argv[5]), std::atol(argv[6]));
    std::fprintf(stderr,
                 "usage: tls_sink serve ADDRESS PORT CERT KEY\n"
                 "       tls_sink blast HOST PORT CONNECTIONS MESSAGES SIZE\n");
    return 2;
}
