// tests/unit/spool/queue_id_test.cpp — queue ids are well-formed, unique
// and sort by creation time.
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "relay/spool/spool.hpp"

using namespace mxgate::spool;

TEST_CASE("queue ids: format, uniqueness and order", "[id]") {
    std::vector<std::string> ids;
    for (int i = 0; i < 20000; ++i) ids.push_back(new_queue_id());
    std::set<std::string> uniq(ids.begin(), ids.end());
    CHECK(uniq.size() == ids.size());
    for (size_t i = 1; i < ids.size(); ++i) REQUIRE(ids[i - 1] < ids[i]);
    for (const auto& id : ids) REQUIRE(is_valid_queue_id(id));
    CHECK(ids[0].size() == 20);
}

TEST_CASE("queue ids: unique across threads", "[id]") {
    std::vector<std::vector<std::string>> per(4);
    std::vector<std::thread> th;
    for (auto& v : per)
        th.emplace_back([&v] {
            for (int i = 0; i < 5000; ++i) v.push_back(new_queue_id());
        });
    for (auto& t : th) t.join();
    std::set<std::string> all;
    for (auto& v : per) all.insert(v.begin(), v.end());
    CHECK(all.size() == 20000);
}

TEST_CASE("queue ids: validation rejects anything but [0-9A-F]{20}", "[id][security]") {
    CHECK(is_valid_queue_id("0123456789ABCDEF0123"));
    CHECK_FALSE(is_valid_queue_id(""));
    CHECK_FALSE(is_valid_queue_id("0123456789ABCDEF012"));
    CHECK_FALSE(is_valid_queue_id("0123456789ABCDEF01234"));
    CHECK_FALSE(is_valid_queue_id("0123456789abcdef0123"));
    CHECK_FALSE(is_valid_queue_id("../../etc/passwd...."));
    CHECK_FALSE(is_valid_queue_id("0123456789ABCDEF012/"));
    CHECK_FALSE(is_valid_queue_id(std::string("0123456789ABCDEF012\0", 20)));
    CHECK_FALSE(is_valid_queue_id("0123456789ABCDEF012G"));
}
