// tests/bench/smtp_replay.cpp — replays pre-built (e.g. DKIM-signed)
// messages at a fixed concurrency, for checks_bench.py
// (docs/performance-checks.md).
//
// smtp-source generates its own message text, so it cannot send messages
// signed in advance; this client sends them as they are in FILE:
//
//   smtp_replay HOST PORT CONCURRENCY MESSAGES FILE [SOURCE_ADDRESS]
//
// FILE holds records "MAIL_FROM RCPT_TO LENGTH\n" followed by LENGTH bytes
// of message (CRLF line ends, not yet dot-stuffed). MESSAGES messages are
// sent, cycling through the records, from CONCURRENCY threads, one message
// per connection (greeting, EHLO, MAIL, RCPT, DATA, text, ".", QUIT), like
// smtp-source; connections are bound to SOURCE_ADDRESS when given (the SPF
// records authorise it). For every message the time from writing the final
// ".\r\n" to reading the complete reply is recorded. Prints JSON:
//   {"messages":..,"accepted":..,"rejected":..,"failed":..,"elapsed_s":..,
//    "per_s":..,"p50_us":..,"p90_us":..,"p99_us":..,"max_us":..,
//    "codes":{"250":..,"451":..},"first_rejection":"..."}
// accepted = end of data answered 250; rejected = answered otherwise (the
// code counted in "codes"); failed = the session broke before that.
//
// Plain blocking sockets, one thread per connection, messages prepared
// (dot-stuffed) before the clock starts. Not a test; never run by ctest.
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
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_smtp_conn.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Message {
    std::string from, rcpt;
    std::string text;  // dot-stuffed, without the final ".\r\n"
};

using Conn = bench::SmtpConn;

std::string dot_stuff(const std::string& t) {
    std::string out;
    out.reserve(t.size() + 16);
    bool bol = true;
    for (char ch : t) {
        if (bol && ch == '.') out += '.';
        out += ch;
        bol = ch == '\n';
    }
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
}

bool load(const char* path, std::vector<Message>& out) {
    std::ifstream f(path, std::ios::binary);
    std::string header;
    while (std::getline(f, header)) {
        std::istringstream h(header);
        Message m;
        size_t len = 0;
        if (!(h >> m.from >> m.rcpt >> len)) return false;
        std::string text(len, '\0');
        if (!f.read(text.data(), static_cast<std::streamsize>(len))) return false;
        m.text = dot_stuff(text);
        out.push_back(std::move(m));
    }
    return !out.empty();
}

struct Result {
    int code = 0;            // end-of-data reply, 0 if the session broke before
    long long us = -1;       // its latency
    std::string text;        // reply text when not 250
};

Result one_message(const sockaddr_in& dst, const sockaddr_in* src, const Message& m) {
    Result r;
    Conn c;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return r;
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (src) {
        ::setsockopt(c.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(c.fd, reinterpret_cast<const sockaddr*>(src), sizeof *src) != 0) return r;
    }
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) != 0) return r;
    const auto step = [&](const std::string& cmd, int want) {
        if (!c.send_all(cmd)) return false;
        int code = c.reply();
        if (code != want) {
            r.code = code;
            r.text = cmd.substr(0, cmd.find(' ')) + ": " + c.last;
            return false;
        }
        return true;
    };
    if (c.reply() != 220) return r;
    if (!step("EHLO replay.client.test\r\n", 250) || !step("MAIL FROM:<" + m.from + ">\r\n", 250) ||
        !step("RCPT TO:<" + m.rcpt + ">\r\n", 250) || !step("DATA\r\n", 354))
        return r;
    if (!c.send_all(m.text)) return r;
    const auto t0 = Clock::now();
    if (!c.send_all(".\r\n")) return r;
    r.code = c.reply();
    r.us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
    if (r.code != 250) r.text = "end of data: " + c.last;
    c.send_all("QUIT\r\n");
    c.reply();
    return r;
}

std::string json_escape(const std::string& s) {
    std::string o;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') o += '\\';
        if (static_cast<unsigned char>(ch) >= 0x20) o += ch;
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s HOST PORT CONCURRENCY MESSAGES FILE [SOURCE_ADDRESS]\n", argv[0]);
        return 2;
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    if (::inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
        std::fprintf(stderr, "bad address %s\n", argv[1]);
        return 2;
    }
    sockaddr_in src{};
    const bool bind_src = argc > 6;
    if (bind_src) {
        src.sin_family = AF_INET;
        if (::inet_pton(AF_INET, argv[6], &src.sin_addr) != 1) {
            std::fprintf(stderr, "bad source address %s\n", argv[6]);
            return 2;
        }
    }
    const int concurrency = std::max(1, std::atoi(argv[3]));
    const long messages = std::max(1L, std::atol(argv[4]));
    std::vector<Message> msgs;
    if (!load(argv[5], msgs)) {
        std::fprintf(stderr, "cannot read messages from %s\n", argv[5]);
        return 2;
    }

    std::atomic<long> next{0};
    std::mutex mu;
    std::vector<long long> lat;
    std::map<int, long> codes;
    long failed = 0;
    std::string first_rejection;
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < concurrency; ++t) {
        threads.emplace_back([&] {
            std::vector<Result> mine;
            for (long i; (i = next.fetch_add(1)) < messages;)
                mine.push_back(one_message(dst, bind_src ? &src : nullptr, msgs[static_cast<size_t>(i) % msgs.size()]));
            std::lock_guard lock(mu);
            for (auto& r : mine) {
                if (r.code == 0) ++failed;
                else ++codes[r.code];
                if (r.code == 250) lat.push_back(r.us);
                else if (r.code != 0 && first_rejection.empty()) first_rejection = r.text;
            }
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
    const long accepted = static_cast<long>(lat.size());
    std::string cj;
    for (auto& [code, n] : codes) cj += (cj.empty() ? "\"" : ",\"") + std::to_string(code) + "\":" + std::to_string(n);
    std::printf("{\"messages\":%ld,\"accepted\":%ld,\"rejected\":%ld,\"failed\":%ld,\"elapsed_s\":%.4f,"
                "\"per_s\":%.1f,\"p50_us\":%lld,\"p90_us\":%lld,\"p99_us\":%lld,\"max_us\":%lld,\"codes\":{%s},"
                "\"first_rejection\":\"%s\"}\n",
                messages, accepted, messages - accepted - failed, failed, elapsed, accepted / elapsed, pct(0.50),
                pct(0.90), pct(0.99), lat.empty() ? -1 : lat.back(), cj.c_str(), json_escape(first_rejection).c_str());
    return accepted == messages ? 0 : 1;
}
