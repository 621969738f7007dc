// relay/queue/downstream_status.hpp — what `mxgate status` shows for each
// route: reachable, or down since when and why (SPEC §2).
//
// The daemon records every attempt's connection outcome here and persists
// the table to <spool>/state/routes (a small tab-separated file replaced
// atomically), so the status command can read it without talking to the
// daemon. Informational only: it is not fsync'ed.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace mxgate::queue {

struct RouteState {
    bool reachable = true;
    int64_t down_since = 0;     // unix seconds; 0 when reachable
    int64_t last_success = 0;
    int64_t last_attempt = 0;
    std::string last_host;      // host:port last tried
    std::string last_error;
};

class DownstreamStatus {
public:
    explicit DownstreamStatus(std::string state_file) : file_(std::move(state_file)) {}
    void record_success(const std::string& route, const std::string& host);
    void record_failure(const std::string& route, const std::string& host, const std::string& error);
    std::map<std::string, RouteState> snapshot() const;

    static std::map<std::string, RouteState> read(const std::string& state_file);
    static std::string encode(const std::map<std::string, RouteState>& m);
    static std::map<std::string, RouteState> decode(const std::string& text);

private:
    void persist();  // caller holds mu_
    std::string file_;
    mutable std::mutex mu_;
    std::map<std::string, RouteState> routes_;
    int64_t last_write_ = 0;
};

}  // namespace mxgate::queue
