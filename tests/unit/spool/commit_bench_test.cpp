// tests/unit/spool/commit_bench_test.cpp — measures what a durable commit
// costs here (docs/spool.md "Cost"). Hidden: run it by hand with
//   ./build-spool/tests/unit_spool "[.bench]" -s
// SPOOL_BENCH_DIR picks the file system (default /tmp).
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "relay/spool/spool.hpp"
#include "spool_test_util.hpp"

using namespace mxgate::spool;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

TEST_CASE("bench: commit and update latency", "[.bench]") {
    const char* base = std::getenv("SPOOL_BENCH_DIR");
    std::string root = std::string(base ? base : "/tmp") + "/mxgate-spool-bench-" + std::to_string(::getpid());
    auto sp = open_file_spool(root);
    for (size_t size : {size_t(4 * 1024), size_t(100 * 1024), size_t(1024 * 1024)}) {
        std::string body(size, 'm');
        const int n = size > 500000 ? 20 : 100;
        std::vector<double> t;
        std::vector<std::string> ids;
        for (int i = 0; i < n; ++i) {
            auto w = sp->begin();
            REQUIRE(w->write(body));
            auto t0 = Clock::now();
            REQUIRE(w->commit(spooltest::sample_envelope()));
            t.push_back(ms_since(t0));
            ids.push_back(w->id());
        }
        std::sort(t.begin(), t.end());
        std::printf("commit %7zu B: median %.2f ms  p90 %.2f ms  max %.2f ms  (n=%d)\n", size, t[t.size() / 2],
                    t[t.size() * 9 / 10], t.back(), n);
        std::vector<double> u;
        DeliveryState st;
        st.rcpt_state.assign(2, RcptState::pending);
        for (const auto& id : ids) {
            auto t0 = Clock::now();
            REQUIRE(sp->update(id, st));
            u.push_back(ms_since(t0));
        }
        std::sort(u.begin(), u.end());
        std::printf("update (state):  median %.2f ms  p90 %.2f ms  max %.2f ms\n", u[u.size() / 2],
                    u[u.size() * 9 / 10], u.back());
        for (const auto& id : ids) sp->remove(id);
    }
    std::filesystem::remove_all(root);
}
