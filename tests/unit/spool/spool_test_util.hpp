// tests/unit/spool/spool_test_util.hpp — helpers for the spool tests: a
// temporary directory under /tmp removed afterwards, sample envelopes, and
// raw file access for tests that damage spool files on purpose.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "relay/spool/spool.hpp"

namespace spooltest {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir() {
        std::string tmpl = "/tmp/mxgate-spool-test-XXXXXX";
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

private:
    std::string path_;
};

inline mxgate::spool::Envelope sample_envelope(int rcpts = 2) {
    using namespace mxgate::spool;
    Envelope e;
    e.sender = "alice@example.net";
    e.arrival = 1700000000;
    e.client_ip = "192.0.2.7";
    e.helo = "mail.example.net";
    e.auth_user = "";
    e.listener = "mx";
    e.smtputf8 = true;
    e.body_8bit = false;
    e.ret = "HDRS";
    e.envid = "QQ314159";
    e.prepend = "Received: from mail.example.net\r\n\tby mx.example.org; Tue, 14 Nov 2023 22:13:20 +0000\r\n";
    for (int i = 0; i < rcpts; ++i) {
        Recipient r;
        r.address = "user" + std::to_string(i) + "@example.org";
        r.orcpt = i == 0 ? "rfc822;user0@example.org" : "";
        e.recipients.push_back(r);
    }
    return e;
}

inline std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_all(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
}

inline unsigned mode_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return 0xffff;
    return st.st_mode & 07777;
}

// Commits one message through the spool's Writer; returns its id.
inline std::string commit_one(mxgate::spool::Spool& sp, const std::string& body,
                              const mxgate::spool::Envelope& env = sample_envelope()) {
    auto w = sp.begin();
    if (!w->write(body) || !w->commit(env)) throw std::runtime_error("commit failed");
    return w->id();
}

}  // namespace spooltest
