// tests/bench/bench_smtp_conn.hpp — the blocking SMTP connection the bench
// clients (smtp_latency, smtp_replay) share: send everything, read one
// complete (possibly multi-line) reply. Not a test; never run by ctest.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace bench {

struct SmtpConn {
    int fd = -1;
    std::string in;
    std::string last;  // text of the last reply's final line

    SmtpConn() = default;
    SmtpConn(const SmtpConn&) = delete;
    SmtpConn& operator=(const SmtpConn&) = delete;
    ~SmtpConn() {
        if (fd >= 0) ::close(fd);
    }

    bool send_all(const std::string& s) {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return false;
            off += static_cast<size_t>(n);
        }
        return true;
    }

    // One complete reply: its code, or 0 (connection closed, malformed line).
    int reply() {
        for (;;) {
            size_t start = 0;
            for (;;) {
                size_t eol = in.find("\r\n", start);
                if (eol == std::string::npos) break;
                if (eol - start >= 4 && in[start + 3] == ' ') {
                    last.assign(in, start, eol - start);
                    in.erase(0, eol + 2);
                    return std::atoi(last.substr(0, 3).c_str());
                }
                if (eol - start < 4) {  // malformed
                    in.erase(0, eol + 2);
                    return 0;
                }
                start = eol + 2;
            }
            char buf[4096];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return 0;
            in.append(buf, static_cast<size_t>(n));
        }
    }
};

}  // namespace bench
