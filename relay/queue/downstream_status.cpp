#include "relay/queue/downstream_status.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

namespace mxgate::queue {

namespace {

int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
}

// Fields are tab-separated; peer text (errors) must not break the format.
std::string clean(const std::string& s) {
    std::string out;
    for (char c : s) out += (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
    return out;
}

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> f;
    size_t start = 0;
    for (;;) {
        size_t p = line.find('\t', start);
        f.push_back(line.substr(start, p == std::string::npos ? std::string::npos : p - start));
        if (p == std::string::npos) break;
        start = p + 1;
    }
    return f;
}

}  // namespace

void DownstreamStatus::record_success(const std::string& route, const std::string& host) {
    std::lock_guard lock(mu_);
    RouteState& r = routes_[route];
    const bool changed = !r.reachable || r.last_host != host || r.last_success == 0;
    r.reachable = true;
    r.down_since = 0;
    r.last_success = r.last_attempt = now_seconds();
    r.last_host = host;
    r.last_error.clear();
    // Persist on transitions, and at most once a minute otherwise.
    if (changed || r.last_attempt - last_write_ >= 60) {
        last_write_ = r.last_attempt;
        persist();
    }
}

void DownstreamStatus::record_failure(const std::string& route, const std::string& host,
                                      const std::string& error) {
    std::lock_guard lock(mu_);
    RouteState& r = routes_[route];
    const int64_t now = now_seconds();
    if (r.reachable || r.down_since == 0) r.down_since = now;
    r.reachable = false;
    r.last_attempt = now;
    r.last_host = host;
    r.last_error = error;
    persist();
}

std::map<std::string, RouteState> DownstreamStatus::snapshot() const {
    std::lock_guard lock(mu_);
    return routes_;
}

std::string DownstreamStatus::encode(const std::map<std::string, RouteState>& m) {
    std::string out = "# mxgate route status v1\n";
    for (const auto& [name, r] : m) {
        out += clean(name) + '\t' + (r.reachable ? "up" : "down") + '\t' + std::to_string(r.down_since) +
               '\t' + std::to_string(r.last_success) + '\t' + std::to_string(r.last_attempt) + '\t' +
               clean(r.last_host) + '\t' + clean(r.last_error) + '\n';
    }
    return out;
}

std::map<std::string, RouteState> DownstreamStatus::decode(const std::string& text) {
    std::map<std::string, RouteState> m;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto f = split_tabs(line);
        if (f.size() != 7) continue;
        RouteState r;
        r.reachable = f[1] == "up";
        try {
            r.down_since = std::stoll(f[2]);
            r.last_success = std::stoll(f[3]);
            r.last_attempt = std::stoll(f[4]);
        } catch (...) {
            continue;
        }
        r.last_host = f[5];
        r.last_error = f[6];
        m[f[0]] = r;
    }
    return m;
}

std::map<std::string, RouteState> DownstreamStatus::read(const std::string& state_file) {
    std::ifstream in(state_file);
    if (!in) return {};
    std::stringstream ss;
    ss << in.rdbuf();
    return decode(ss.str());
}

void DownstreamStatus::persist() {
    if (file_.empty()) return;
    const std::string tmp = file_ + ".tmp";
    const std::string text = encode(routes_);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (ok) std::rename(tmp.c_str(), file_.c_str());
}

}  // namespace mxgate::queue
