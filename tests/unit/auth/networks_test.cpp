// Unit tests for auth/networks (SPEC §5, §9): the /24 and /64 of an
// address, and the auth.networks / auth.deny_networks table.
#include <catch2/catch.hpp>

#include "auth/networks.hpp"
#include "tests/unit/conf/helpers.hpp"

using namespace mxgate;
using auth::NetworkVerdict;

TEST_CASE("network_of gives the /24 or /64 in CIDR notation", "[auth][networks]") {
    struct Row {
        const char* ip;
        const char* network;
    };
    const Row rows[] = {
        {"198.51.100.77", "198.51.100.0/24"},
        {"127.0.6.1", "127.0.6.0/24"},
        {"::ffff:192.0.2.9", "192.0.2.0/24"},  // IPv4-mapped is IPv4
        {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
        {"::1", "::/64"},
        {"fe80::1", "fe80::/64"},
        {"not an ip", ""},
        {"", ""},
        {"192.0.2.300", ""},
    };
    for (const Row& r : rows) {
        INFO(r.ip);
        CHECK(auth::network_of(std::string_view(r.ip)) == r.network);
    }
}

TEST_CASE("deny_networks refuse everyone, networks[user] restrict that user", "[auth][networks]") {
    const auto cfg = conf::test::load_ok(conf::test::kBase +
                                         "auth:\n"
                                         "  networks: { relay: ['198.51.100.0/24', '2001:db8::/32'] }\n"
                                         "  deny_networks: ['203.0.113.0/24', '198.51.100.66/32']\n");
    struct Row {
        const char* user;
        const char* ip;
        NetworkVerdict want;
    };
    const Row rows[] = {
        {"relay", "198.51.100.5", NetworkVerdict::allowed},
        {"relay", "2001:db8:ff::1", NetworkVerdict::allowed},
        {"relay", "192.0.2.5", NetworkVerdict::outside_user_networks},
        {"relay", "2001:db9::1", NetworkVerdict::outside_user_networks},
        {"relay", "198.51.100.66", NetworkVerdict::denied_network},  // deny wins over networks
        {"alice", "192.0.2.5", NetworkVerdict::allowed},             // no entry: any network
        {"alice", "203.0.113.9", NetworkVerdict::denied_network},
        {"alice", "::ffff:203.0.113.9", NetworkVerdict::denied_network},
    };
    for (const Row& r : rows) {
        INFO(r.user << " from " << r.ip);
        const auto ip = auth::parse_ip(r.ip);
        REQUIRE(ip);
        CHECK(auth::check_network(cfg->auth, r.user, *ip) == r.want);
    }
}
