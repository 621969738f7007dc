// Greylisting state pruning (relay/server/greylist_prune).
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "relay/server/greylist_prune.hpp"

using namespace mxgate;
using namespace mxgate::server;

namespace {

struct Spool {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("mxgate-grey-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    static inline int n = 0;
    ~Spool() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

// Sets a record's modification time (its last write) to `t`.
void set_mtime(core::StateStore& s, const std::string& key, int64_t t) {
    const std::string path = (s.dir() / core::StateStore::encode_key(key)).string();
    timeval tv[2] = {{static_cast<time_t>(t), 0}, {static_cast<time_t>(t), 0}};
    REQUIRE(::utimes(path.c_str(), tv) == 0);
}

}  // namespace

TEST_CASE("greylist values", "[greylist]") {
    const auto a = parse_greylist_value("1700000000 1");
    REQUIRE(a);
    CHECK(a->first_seen == 1700000000);
    CHECK(a->passed);
    CHECK_FALSE(parse_greylist_value("1700000000"));
    CHECK_FALSE(parse_greylist_value("x 0"));
    CHECK_FALSE(parse_greylist_value("17 2"));
    CHECK_FALSE(parse_greylist_value(" 0"));
}

TEST_CASE("pruning forgets stale triplets and keeps live ones", "[greylist]") {
    Spool sp;
    core::StateStore s(sp.dir, "greylist");
    const int64_t now = 1800000000;
    const int64_t delay = 300;
    const int64_t day = 86400;
    // Unconfirmed: kept within the retry window (2 days), dropped after it.
    s.put("fresh", std::to_string(now - 600) + " 0");
    s.put("waiting-1d", std::to_string(now - day) + " 0");
    s.put("abandoned", std::to_string(now - 3 * day) + " 0");
    // Passed: the lifetime counts from the last write (use), not first seen.
    s.put("passed-used", std::to_string(now - 90 * day) + " 1");
    set_mtime(s, "passed-used", now - 2 * day);
    s.put("passed-unused", std::to_string(now - 90 * day) + " 1");
    set_mtime(s, "passed-unused", now - 36 * day);
    s.put("garbage", "not a record");

    const GreylistPruneStats st = prune_greylist(s, now, delay);
    CHECK(st.removed == 3);
    CHECK(st.kept == 3);
    CHECK(s.get("fresh"));
    CHECK(s.get("waiting-1d"));
    CHECK_FALSE(s.get("abandoned"));
    CHECK(s.get("passed-used"));
    CHECK_FALSE(s.get("passed-unused"));
    CHECK_FALSE(s.get("garbage"));
}

TEST_CASE("a long greylisting delay keeps unconfirmed triplets for twice the delay", "[greylist]") {
    Spool sp;
    core::StateStore s(sp.dir, "greylist");
    const int64_t now = 1800000000;
    const int64_t delay = 3 * 86400;  // longer than the retry window
    s.put("young", std::to_string(now - 5 * 86400) + " 0");
    s.put("old", std::to_string(now - 7 * 86400) + " 0");
    prune_greylist(s, now, delay);
    CHECK(s.get("young"));
    CHECK_FALSE(s.get("old"));
}
