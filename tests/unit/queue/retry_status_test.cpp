// tests/unit/queue/retry_status_test.cpp — retry_delay (SPEC §3) as a table,
// and DownstreamStatus: encoding, hostile text, up/down transitions.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>

#include "relay/queue/downstream_status.hpp"
#include "relay/queue/queue_manager.hpp"

using namespace mxgate;
using std::chrono::seconds;

TEST_CASE("retry_delay: queue.retry in order, then the last interval forever", "[queue][retry]") {
    conf::QueueConfig q;
    q.retry = {seconds(300), seconds(600), seconds(1800)};
    struct Row {
        int failed;
        long expect;
    };
    const Row rows[] = {
        {0, 300},     // clamped: "no failure yet" behaves as the first
        {1, 300},  {2, 600},  {3, 1800},
        {4, 1800},    // SPEC §3: after the last interval, repeat it
        {5, 1800}, {1000, 1800},
        {-3, 300},
    };
    for (const auto& r : rows) {
        INFO("failed attempts " << r.failed);
        CHECK(queue::retry_delay(q, r.failed).count() == r.expect);
    }
}

TEST_CASE("retry_delay: the default schedule and a one-interval schedule", "[queue][retry]") {
    conf::QueueConfig def;  // 5m 10m 30m 1h 2h 4h
    const long expect[] = {300, 600, 1800, 3600, 7200, 14400, 14400, 14400};
    for (int n = 1; n <= 8; ++n) {
        INFO("failed attempts " << n);
        CHECK(queue::retry_delay(def, n).count() == expect[n - 1]);
    }
    conf::QueueConfig one;
    one.retry = {seconds(42)};
    CHECK(queue::retry_delay(one, 1).count() == 42);
    CHECK(queue::retry_delay(one, 9).count() == 42);
    conf::QueueConfig none;
    none.retry.clear();
    CHECK(queue::retry_delay(none, 3).count() == 300);  // never zero (no busy loop)
}

namespace {

queue::RouteState state(bool up, int64_t since, int64_t ok, int64_t at, std::string host, std::string err) {
    queue::RouteState r;
    r.reachable = up;
    r.down_since = since;
    r.last_success = ok;
    r.last_attempt = at;
    r.last_host = std::move(host);
    r.last_error = std::move(err);
    return r;
}

bool same(const queue::RouteState& a, const queue::RouteState& b) {
    return a.reachable == b.reachable && a.down_since == b.down_since && a.last_success == b.last_success &&
           a.last_attempt == b.last_attempt && a.last_host == b.last_host && a.last_error == b.last_error;
}

struct TmpFile {
    std::string dir;
    TmpFile() {
        std::string t = "/tmp/mxgate-status-test-XXXXXX";
        REQUIRE(::mkdtemp(t.data()));
        dir = t;
    }
    ~TmpFile() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::string path() const { return dir + "/routes"; }
};

}  // namespace

TEST_CASE("DownstreamStatus: encode/decode round trip", "[queue][status]") {
    std::map<std::string, queue::RouteState> m;
    m["downstream:one.example"] = state(true, 0, 1700000100, 1700000100, "192.0.2.1:25", "");
    m["downstream:two.example"] = state(false, 1700000000, 1699990000, 1700000200, "[2001:db8::1]:2525",
                                        "connect: Connection refused");
    m["mx:example.net"] = state(false, 1700000300, 0, 1700000300, "", "");
    const std::string text = queue::DownstreamStatus::encode(m);
    CHECK(text.rfind("# mxgate route status v1\n", 0) == 0);
    const auto back = queue::DownstreamStatus::decode(text);
    REQUIRE(back.size() == m.size());
    for (const auto& [k, v] : m) {
        INFO(k);
        REQUIRE(back.count(k) == 1);
        CHECK(same(back.at(k), v));
    }
}

TEST_CASE("DownstreamStatus: hostile text cannot add fields or lines", "[queue][status]") {
    std::map<std::string, queue::RouteState> m;
    m["mx:evil.example"] = state(false, 5, 0, 6, "h\t1:25",
                                 "550 bad\tup\t0\t0\t0\tx\ty\r\nmx:forged\tup\t0\t0\t0\th\te");
    m["mx:b.example\nmx:c.example"] = state(true, 0, 1, 1, "x", "");
    const std::string text = queue::DownstreamStatus::encode(m);
    // One header line plus exactly one line per route.
    CHECK(std::count(text.begin(), text.end(), '\n') == 3);
    const auto back = queue::DownstreamStatus::decode(text);
    REQUIRE(back.size() == 2);
    CHECK(back.count("mx:forged") == 0);
    REQUIRE(back.count("mx:evil.example") == 1);
    const auto& r = back.at("mx:evil.example");
    CHECK_FALSE(r.reachable);
    CHECK(r.down_since == 5);
    CHECK(r.last_host == "h 1:25");
    CHECK(r.last_error == "550 bad up 0 0 0 x y  mx:forged up 0 0 0 h e");
    CHECK(back.count("mx:b.example mx:c.example") == 1);
}

TEST_CASE("DownstreamStatus: decode skips malformed lines", "[queue][status]") {
    const std::string text =
        "# comment\n"
        "\n"
        "too\tfew\tfields\n"
        "mx:a\tup\tNaN\t0\t0\th\te\n"          // bad number
        "mx:b\tdown\t10\t20\t30\th:25\toops\n"  // good
        "mx:c\tup\t1\t2\t3\th\te\textra\n";     // 8 fields
    const auto m = queue::DownstreamStatus::decode(text);
    REQUIRE(m.size() == 1);
    CHECK(same(m.at("mx:b"), state(false, 10, 20, 30, "h:25", "oops")));
}

TEST_CASE("DownstreamStatus: up -> down -> up, down_since kept while down, persisted", "[queue][status]") {
    TmpFile f;
    queue::DownstreamStatus st(f.path());
    const std::string key = "downstream:one.example";

    st.record_success(key, "192.0.2.1:25");
    auto s = st.snapshot().at(key);
    CHECK(s.reachable);
    CHECK(s.down_since == 0);
    CHECK(s.last_success > 0);
    CHECK(queue::DownstreamStatus::read(f.path()).at(key).reachable);

    st.record_failure(key, "192.0.2.1:25", "connect: Connection refused");
    s = st.snapshot().at(key);
    CHECK_FALSE(s.reachable);
    const int64_t since = s.down_since;
    CHECK(since > 0);
    CHECK(s.last_error == "connect: Connection refused");
    {
        const auto disk = queue::DownstreamStatus::read(f.path());
        REQUIRE(disk.count(key) == 1);
        CHECK_FALSE(disk.at(key).reachable);
        CHECK(disk.at(key).down_since == since);
    }

    // A second failure a second later keeps the original down_since (the
    // wait is what makes this check able to fail).
    std::this_thread::sleep_for(std::chrono::milliseconds(1050));
    st.record_failure(key, "192.0.2.1:25", "timeout");
    s = st.snapshot().at(key);
    CHECK(s.down_since == since);
    CHECK(s.last_attempt > since);  // control: the clock did move
    CHECK(s.last_error == "timeout");

    st.record_success(key, "192.0.2.1:25");
    s = st.snapshot().at(key);
    CHECK(s.reachable);
    CHECK(s.down_since == 0);
    CHECK(s.last_error.empty());
    CHECK(queue::DownstreamStatus::read(f.path()).at(key).reachable);

    // Down again: a fresh down_since.
    st.record_failure(key, "192.0.2.1:25", "again");
    CHECK(st.snapshot().at(key).down_since >= s.last_success);
    CHECK(st.snapshot().at(key).down_since > since);
}

TEST_CASE("DownstreamStatus: read of a missing file is empty", "[queue][status]") {
    CHECK(queue::DownstreamStatus::read("/nonexistent/mxgate/routes").empty());
    queue::DownstreamStatus st("");  // no file: nothing persisted, no crash
    st.record_failure("mx:x", "h", "e");
    CHECK(st.snapshot().size() == 1);
}
