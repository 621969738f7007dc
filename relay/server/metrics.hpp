// relay/server/metrics.hpp — Prometheus text-format metrics (metrics.address).
//
// Counters are derived from the events themselves (MetricsSink counts every
// event by name and, for rejections, by reply code), so whatever is logged
// is also counted, with no second bookkeeping path. Gauges (queue size,
// open connections) are read when scraped.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "relay/core/event_sink.hpp"

namespace mxgate::server {

class Metrics {
public:
    void count_event(const core::Event& e);
    void set_gauge(const std::string& name, std::function<double()> read);
    std::string render() const;  // Prometheus text exposition format 0.0.4

private:
    mutable std::mutex mu_;
    std::map<std::string, uint64_t> events_;             // event name -> count
    std::map<std::pair<std::string, std::string>, uint64_t> rejects_;  // (code, reason)
    std::map<std::string, std::function<double()>> gauges_;
};

// An EventSink that feeds Metrics.
class MetricsSink final : public core::EventSink {
public:
    explicit MetricsSink(Metrics& m) : m_(m) {}
    void emit(const core::Event& e) override { m_.count_event(e); }
private:
    Metrics& m_;
};

// Serves GET /metrics (any path) on the acceptor until it is closed. The
// loop shares ownership, so a reload can replace the daemon's acceptor.
boost::asio::awaitable<void> serve_metrics(std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor, Metrics& m);

}  // namespace mxgate::server
