// Recorded DMARC evaluations (relay/report/dmarc_store): periods per UTC
// day, forced closes, restarts, sent marks.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "relay/report/dmarc_store.hpp"

using namespace mxgate;
using namespace mxgate::report;

namespace {

struct Spool {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("mxgate-dmarcstore-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    static inline int n = 0;
    ~Spool() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

dmarc::ReportRow row(int64_t t, std::string ip = "192.0.2.1", std::string domain = "sender.test") {
    dmarc::ReportRow r;
    r.time = t;
    r.policy_domain = std::move(domain);
    r.source_ip = std::move(ip);
    r.header_from = r.policy_domain;
    r.envelope_from = r.policy_domain;
    r.disposition = "reject";
    r.spf_domain = r.policy_domain;
    r.spf_scope = "mfrom";
    r.spf_result = "fail";
    r.p = r.sp = 'r';
    r.rua = "mailto:dmarc@reports.test";
    return r;
}

constexpr int64_t kMidnight = 1800057600;  // a UTC midnight
static_assert(kMidnight % kDay == 0);

}  // namespace

TEST_CASE("rows of one UTC day form one period, closed when the day is over", "[dmarc_store]") {
    Spool sp;
    DmarcStore s(sp.dir);
    REQUIRE(s.record(row(kMidnight + 100)));
    REQUIRE(s.record(row(kMidnight + 200, "192.0.2.2")));
    CHECK(s.closed_periods().empty());
    REQUIRE(s.close_period(kMidnight + 5000, false));  // the day is not over: nothing closes
    CHECK(s.closed_periods().empty());
    REQUIRE(s.open_period());
    CHECK(s.rows(*s.open_period()).size() == 2);

    // A row of the next day closes the first period at midnight.
    REQUIRE(s.record(row(kMidnight + kDay + 10)));
    auto closed = s.closed_periods();
    REQUIRE(closed.size() == 1);
    CHECK(closed[0].begin == kMidnight);
    CHECK(closed[0].end == kMidnight + kDay);
    CHECK(s.rows(closed[0]).size() == 2);

    // The timer closes the second day after it ends.
    REQUIRE(s.close_period(kMidnight + 2 * kDay + 1, false));
    closed = s.closed_periods();
    REQUIRE(closed.size() == 2);
    CHECK(closed[1].begin == kMidnight + kDay);
    CHECK(closed[1].end == kMidnight + 2 * kDay);
    CHECK_FALSE(s.open_period());
}

TEST_CASE("a forced close ends the period now; the next one starts there", "[dmarc_store]") {
    Spool sp;
    DmarcStore s(sp.dir);
    REQUIRE(s.record(row(kMidnight + 100)));
    REQUIRE(s.close_period(kMidnight + 1000, true));
    REQUIRE(s.record(row(kMidnight + 2000)));
    REQUIRE(s.close_period(kMidnight + 3000, true));
    const auto closed = s.closed_periods();
    REQUIRE(closed.size() == 2);
    CHECK(closed[0].begin == kMidnight);
    CHECK(closed[0].end == kMidnight + 1000);
    CHECK(closed[1].begin == kMidnight + 1000);  // no overlap with the first
    CHECK(closed[1].end == kMidnight + 3000);
}

TEST_CASE("recorded rows and sent marks survive a restart", "[dmarc_store]") {
    Spool sp;
    {
        DmarcStore s(sp.dir);
        REQUIRE(s.record(row(kMidnight + 100)));
        REQUIRE(s.record(row(kMidnight + 100, "192.0.2.7", "other.test")));
        REQUIRE(s.close_period(kMidnight + 500, true));
        const auto p = s.closed_periods().at(0);
        REQUIRE(s.mark_sent(p, "sender.test"));
        REQUIRE(s.record(row(kMidnight + 600)));
    }
    DmarcStore s(sp.dir);
    const auto closed = s.closed_periods();
    REQUIRE(closed.size() == 1);
    CHECK(s.sent(closed[0], "sender.test"));
    CHECK_FALSE(s.sent(closed[0], "other.test"));
    REQUIRE(s.open_period());
    CHECK(s.open_period()->begin == kMidnight + 500);
    CHECK(s.rows(*s.open_period()).size() == 1);
    s.finish(closed[0]);
    CHECK(s.closed_periods().empty());
    CHECK_FALSE(s.sent(closed[0], "sender.test"));
}

TEST_CASE("a torn last line (crash during an append) is not counted", "[dmarc_store]") {
    Spool sp;
    DmarcStore s(sp.dir);
    REQUIRE(s.record(row(kMidnight + 100)));
    const auto open = s.open_period();
    REQUIRE(open);
    {
        std::ofstream f(open->file, std::ios::app | std::ios::binary);
        f << dmarc::encode_row(row(kMidnight + 150)).substr(0, 30);
    }
    CHECK(s.rows(*open).size() == 1);
    // After a restart the torn tail is cut, so the next row stays whole.
    DmarcStore again(sp.dir);
    REQUIRE(again.record(row(kMidnight + 200)));
    CHECK(again.rows(*again.open_period()).size() == 2);
}
