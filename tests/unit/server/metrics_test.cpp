// tests/unit/server/metrics_test.cpp — Prometheus text exposition 0.0.4.
#include <catch2/catch.hpp>

#include <string>

#include "relay/server/metrics.hpp"

using namespace mxgate;

TEST_CASE("Metrics: empty registry renders the two counter families", "[metrics]") {
    server::Metrics m;
    CHECK(m.render() ==
          "# HELP mxgate_events_total Structured log events emitted, by event name.\n"
          "# TYPE mxgate_events_total counter\n"
          "# HELP mxgate_rejects_total SMTP rejections by reply code and reason.\n"
          "# TYPE mxgate_rejects_total counter\n");
}

TEST_CASE("Metrics: events, rejects and gauges", "[metrics]") {
    server::Metrics m;
    server::MetricsSink sink(m);
    sink.emit(core::Event("session.open"));
    sink.emit(core::Event("session.open"));
    sink.emit(core::Event("queue.accepted"));
    sink.emit(core::Event("policy.reject").set(core::Field::code, "554").set(core::Field::reason, "relay access denied"));
    sink.emit(core::Event("policy.reject").set(core::Field::code, "554").set(core::Field::reason, "relay access denied"));
    sink.emit(core::Event("policy.reject").set(core::Field::code, "550").set(core::Field::reason, "unknown recipient"));
    double q = 3;
    m.set_gauge("mxgate_queue_messages", [&] { return q; });
    m.set_gauge("mxgate_connections_open", [] { return 0.5; });
    const std::string out = m.render();
    CHECK(out ==
          "# HELP mxgate_events_total Structured log events emitted, by event name.\n"
          "# TYPE mxgate_events_total counter\n"
          "mxgate_events_total{event=\"policy.reject\"} 3\n"
          "mxgate_events_total{event=\"queue.accepted\"} 1\n"
          "mxgate_events_total{event=\"session.open\"} 2\n"
          "# HELP mxgate_rejects_total SMTP rejections by reply code and reason.\n"
          "# TYPE mxgate_rejects_total counter\n"
          "mxgate_rejects_total{code=\"550\",reason=\"unknown recipient\"} 1\n"
          "mxgate_rejects_total{code=\"554\",reason=\"relay access denied\"} 2\n"
          "# TYPE mxgate_connections_open gauge\n"
          "mxgate_connections_open 0.5\n"
          "# TYPE mxgate_queue_messages gauge\n"
          "mxgate_queue_messages 3\n");
    q = 7;  // gauges are read when scraped
    CHECK(m.render().find("mxgate_queue_messages 7\n") != std::string::npos);
}

TEST_CASE("Metrics: label values are escaped", "[metrics]") {
    server::Metrics m;
    m.count_event(core::Event("policy.reject")
                      .set(core::Field::code, "5\"54")
                      .set(core::Field::reason, "a \"quoted\" \\ back\nslash"));
    const std::string out = m.render();
    CHECK(out.find("mxgate_rejects_total{code=\"5\\\"54\",reason=\"a \\\"quoted\\\" \\\\ back\\nslash\"} 1\n") !=
          std::string::npos);
    // Every sample line is one line: no raw newline inside a label.
    size_t samples = 0;
    size_t start = 0;
    for (size_t p; (p = out.find('\n', start)) != std::string::npos; start = p + 1) {
        const std::string line = out.substr(start, p - start);
        if (line.empty() || line[0] == '#') continue;
        ++samples;
        CHECK((line.rfind("mxgate_events_total{", 0) == 0 || line.rfind("mxgate_rejects_total{", 0) == 0));
    }
    CHECK(samples == 2);
}
