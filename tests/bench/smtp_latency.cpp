// tests/bench/smtp_latency.cpp — accept-latency probe for relay_bench.py.
//
// smtp-source reports no latency, so this small client does the same work
// (one message per connection: greeting, EHLO, MAIL, RCPT, DATA, body,
// ".", QUIT) from N threads at once and records, for every message, the
// time from writing the final "\r\n.\r\n" to reading the complete 250
// reply — the time the server spends making the message durable and
// answering. Prints one JSON object on stdout:
//   {"messages":..,"failed":..,"elapsed_s":..,"p50_us":..,"p90_us":..,
//    "p99_us":..,"max_us":..}
//
//   smtp_latency HOST PORT CONCURRENCY MESSAGES SIZE_BYTES [RCPT]
//
// Plain blocking sockets and one thread per connection: the client should
// cost little CPU and add no event-loop lag to what it measures. Not a test;
// never run by ctest (STYLE.md §3).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_smtp_conn.hpp"

namespace {

using Clock = std::chrono::steady_clock;

using Conn = bench::SmtpConn;

struct Args {
    sockaddr_in addr{};
    int concurrency = 1;
    long messages = 1;
    size_t size = 4096;
    std::string rcpt = "user@bench.test";
};

std::string make_body(size_t size) {
    // Header block plus lines of 76 printable characters, like smtp-source.
    std::string b = "From: <bench@source.test>\r\nTo: <user@bench.test>\r\nSubject: relay bench\r\n\r\n";
    const std::string line(76, 'x');
    while (b.size() < size) b += line + "\r\n";
    return b + ".\r\n";
}

// One message on one connection. Returns the DATA-end→250 time, or -1.
long long one_message(const Args& a, const std::string& body) {
    Conn c;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return -1;
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&a.addr), sizeof a.addr) != 0) return -1;
    if (c.reply() != 220) return -1;
    if (!c.send_all("EHLO latency.bench.test\r\n") || c.reply() != 250) return -1;
    if (!c.send_all("MAIL FROM:<bench@source.test>\r\n") || c.reply() != 250) return -1;
    if (!c.send_all("RCPT TO:<" + a.rcpt + ">\r\n") || c.reply() != 250) return -1;
    if (!c.send_all("DATA\r\n") || c.reply() != 354) return -1;
    // Everything but the final ".\r\n" first, so the clock starts when the
    // server can know the message is complete.
    const std::string head = body.substr(0, body.size() - 3);
    if (!c.send_all(head)) return -1;
    const auto t0 = Clock::now();
    if (!c.send_all(".\r\n")) return -1;
    const int code = c.reply();
    const auto t1 = Clock::now();
    if (code != 250) return -1;
    c.send_all("QUIT\r\n");
    c.reply();
    return std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s HOST PORT CONCURRENCY MESSAGES SIZE_BYTES [RCPT]\n", argv[0]);
        return 2;
    }
    Args a;
    a.addr.sin_family = AF_INET;
    a.addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    if (::inet_pton(AF_INET, argv[1], &a.addr.sin_addr) != 1) {
        std::fprintf(stderr, "bad address %s\n", argv[1]);
        return 2;
    }
    a.concurrency = std::max(1, std::atoi(argv[3]));
    a.messages = std::max(1L, std::atol(argv[4]));
    a.size = static_cast<size_t>(std::atol(argv[5]));
    if (argc > 6) a.rcpt = argv[6];
    const std::string body = make_body(a.size);

    std::atomic<long> next{0};
    std::atomic<long> failed{0};
    std::mutex mu;
    std::vector<long long> lat;
    lat.reserve(static_cast<size_t>(a.messages));
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < a.concurrency; ++t) {
        threads.emplace_back([&] {
            std::vector<long long> mine;
            while (next.fetch_add(1) < a.messages) {
                const long long us = one_message(a, body);
                if (us < 0) ++failed;
                else mine.push_back(us);
            }
            std::lock_guard lock(mu);
            lat.insert(lat.end(), mine.begin(), mine.end());
        });
    }
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(lat.begin(), lat.end());
    const auto pct = [&](double p) -> long long {
        if (lat.empty()) return -1;
        size_t i = static_cast<size_t>(p * static_cast<double>(lat.size() - 1) + 0.5);
        return lat[std::min(i, lat.size() - 1)];
    };
    std::printf("{\"messages\":%zu,\"failed\":%ld,\"elapsed_s\":%.3f,\"p50_us\":%lld,\"p90_us\":%lld,"
                "\"p99_us\":%lld,\"max_us\":%lld}\n",
                lat.size(), failed.load(), elapsed, pct(0.50), pct(0.90), pct(0.99), lat.empty() ? -1 : lat.back());
    return failed.load() == 0 ? 0 : 1;
}
