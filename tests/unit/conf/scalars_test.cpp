// Unit tests for conf/scalars.cpp and conf/config.cpp: the value grammars of
// SPEC §3 and the methods of HostPort, Network and Config.
#include <catch2/catch.hpp>

#include "conf/conf.hpp"

using namespace mxgate::conf;
using namespace std::chrono;

TEST_CASE("durations: number and one unit of s, m, h, d", "[conf][scalars]") {
    const std::pair<const char*, long long> good[] = {
        {"30s", 30}, {"5m", 300}, {"2h", 7200}, {"5d", 432000}, {"0s", 0}, {"1s", 1}, {"007m", 420},
        {"36600d", 36600LL * 86400},
    };
    for (const auto& [text, secs] : good) {
        INFO(text);
        REQUIRE(parse_duration(text).has_value());
        CHECK(parse_duration(text)->count() == secs);
    }
    const char* bad[] = {"", "s", "30", "-5m", "+5m", "5M", "5 m", " 5m", "5m ", "1h30m", "1.5h", "5w",
                         "5ms", "m5", "99999999999999999999s", "36601d", "0x10s", "5S"};
    for (const char* text : bad) {
        INFO(text);
        CHECK_FALSE(parse_duration(text).has_value());
    }
}

TEST_CASE("sizes: bytes or binary K, M, G, T", "[conf][scalars]") {
    const std::pair<const char*, uint64_t> good[] = {
        {"0", 0}, {"1024", 1024}, {"512K", 512 * 1024}, {"10M", 10ull << 20}, {"10m", 10ull << 20},
        {"1G", 1ull << 30}, {"2T", 2ull << 40}, {"16777215T", 16777215ull << 40},
        {"18446744073709551615", 18446744073709551615ull},
    };
    for (const auto& [text, bytes] : good) {
        INFO(text);
        REQUIRE(parse_size(text).has_value());
        CHECK(*parse_size(text) == bytes);
    }
    const char* bad[] = {"", "K", "10MB", "10 M", "-1", "1.5M", "16777216T", "18446744073709551616", "10P",
                         "1e6"};
    for (const char* text : bad) {
        INFO(text);
        CHECK_FALSE(parse_size(text).has_value());
    }
}

TEST_CASE("host:port: IPv4, bracketed IPv6, names", "[conf][scalars]") {
    struct Case {
        const char* text;
        const char* host;
        uint16_t port;
        const char* canonical;
    };
    const Case good[] = {
        {"[::]:25", "::", 25, "[::]:25"},
        {"127.0.0.1:2525", "127.0.0.1", 2525, "127.0.0.1:2525"},
        {"home.example.org:25", "home.example.org", 25, "home.example.org:25"},
        {"Home.Example.ORG:587", "home.example.org", 587, "home.example.org:587"},
        {"[2001:db8::1]:65535", "2001:db8::1", 65535, "[2001:db8::1]:65535"},
        {"localhost:1", "localhost", 1, "localhost:1"},
    };
    for (const Case& c : good) {
        INFO(c.text);
        const std::optional<HostPort> hp = parse_host_port(c.text);
        REQUIRE(hp.has_value());
        CHECK(hp->host == c.host);
        CHECK(hp->port == c.port);
        CHECK(hp->text() == c.canonical);
    }
    const char* bad[] = {"", ":25", "host", "host:", "host:0", "host:65536", "host:123456", "::1:25", "[::1]",
                         "[::1]25", "[nothost]:25", "[::1:25", "bad_name:25", "-x.org:25", "host:+25",
                         "host: 25", "a..b:25"};
    for (const char* text : bad) {
        INFO(text);
        CHECK_FALSE(parse_host_port(text).has_value());
    }
}

TEST_CASE("networks: canonical CIDR with host bits cleared", "[conf][scalars]") {
    const std::pair<const char*, const char*> good[] = {
        {"198.51.100.0/24", "198.51.100.0/24"}, {"198.51.100.77/24", "198.51.100.0/24"},
        {"10.1.2.3/8", "10.0.0.0/8"},           {"192.0.2.1", "192.0.2.1/32"},
        {"0.0.0.0/0", "0.0.0.0/0"},             {"2001:db8::/32", "2001:db8::/32"},
        {"2001:DB8:1:2::5/64", "2001:db8:1:2::/64"}, {"::1", "::1/128"},
        {"198.51.100.0/25", "198.51.100.0/25"}, {"198.51.100.255/31", "198.51.100.254/31"},
    };
    for (const auto& [text, canonical] : good) {
        INFO(text);
        const std::optional<Network> n = parse_network(text);
        REQUIRE(n.has_value());
        CHECK(n->text == canonical);
    }
    const char* bad[] = {"", "/24", "198.51.100.0/33", "2001:db8::/129", "198.51.100/24", "198.51.100.0/",
                         "198.51.100.0/-1", "example.org", "198.51.100.0/24/1", "1.2.3.4/0024"};
    for (const char* text : bad) {
        INFO(text);
        CHECK_FALSE(parse_network(text).has_value());
    }
}

TEST_CASE("Network::contains, including IPv4-mapped IPv6 clients", "[conf][scalars]") {
    const Network v4 = *parse_network("198.51.100.0/24");
    const Network v6 = *parse_network("2001:db8::/32");
    const Network odd = *parse_network("10.0.0.0/9");
    const auto ip4 = [](uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
        return std::array<uint8_t, 16>{a, b, c, d};
    };
    CHECK(v4.contains(ip4(198, 51, 100, 7), false));
    CHECK_FALSE(v4.contains(ip4(198, 51, 101, 7), false));
    CHECK(odd.contains(ip4(10, 127, 0, 1), false));
    CHECK_FALSE(odd.contains(ip4(10, 128, 0, 1), false));
    const std::array<uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 9};
    CHECK(v4.contains(mapped, true));
    const std::array<uint8_t, 16> not_mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 198, 51, 100, 9};
    CHECK_FALSE(v4.contains(not_mapped, true));
    const std::array<uint8_t, 16> in6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const std::array<uint8_t, 16> out6{0x20, 0x01, 0x0d, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(v6.contains(in6, true));
    CHECK_FALSE(v6.contains(out6, true));
    CHECK_FALSE(v6.contains(ip4(32, 1, 13, 184), false));
    CHECK(parse_network("0.0.0.0/0")->contains(ip4(1, 2, 3, 4), false));
}

TEST_CASE("Config::find_domain is an exact match", "[conf]") {
    Config cfg;
    cfg.domains.push_back(Domain{});
    cfg.domains.back().name = "example.org";
    CHECK(cfg.find_domain("example.org") == &cfg.domains[0]);
    CHECK(cfg.find_domain("sub.example.org") == nullptr);
    CHECK(cfg.find_domain("example.or") == nullptr);
}

TEST_CASE("Diagnostic::text is FILE:LINE:COL: message, or FILE: message without a position", "[conf]") {
    CHECK(Diagnostic{Mark{"a.yaml", 3, 7}, "bad"}.text() == "a.yaml:3:7: bad");
    CHECK(Diagnostic{Mark{"a.yaml", 0, 0}, "cannot read"}.text() == "a.yaml: cannot read");
}
