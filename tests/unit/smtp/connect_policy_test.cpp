// DNSBL query names and answers, greylisting triplets (relay/smtp/connect_policy.hpp).
#include <catch2/catch.hpp>

#include "relay/smtp/connect_policy.hpp"

using namespace mxgate::smtp;

TEST_CASE("dnsbl: query names (RFC 5782 §2.1, §2.4)", "[dnsbl]") {
    CHECK(dnsbl_query_name("192.0.2.1", "zen.example.test") == std::string("1.2.0.192.zen.example.test"));
    CHECK(dnsbl_query_name("192.0.2.1", "ZEN.Example.TEST.") == std::string("1.2.0.192.zen.example.test"));
    CHECK(dnsbl_query_name("::ffff:10.20.30.40", "bl.test") == std::string("40.30.20.10.bl.test"));
    CHECK(dnsbl_query_name("2001:db8:1:2:3:4:567:89ab", "bl.test") ==
          std::string("b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.test"));
    CHECK(dnsbl_query_name("::1", "bl.test") ==
          std::string("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test"));
    CHECK_FALSE(dnsbl_query_name("not-an-ip", "bl.test"));
    CHECK_FALSE(dnsbl_query_name("192.0.2.1", ""));
    CHECK_FALSE(dnsbl_query_name("192.0.2.256", "bl.test"));
}

TEST_CASE("dnsbl: answers", "[dnsbl]") {
    CHECK(classify_dnsbl_answer("127.0.0.2") == DnsblAnswer::listed);
    CHECK(classify_dnsbl_answer("127.0.0.10") == DnsblAnswer::listed);
    CHECK(classify_dnsbl_answer("127.0.1.2") == DnsblAnswer::listed);
    CHECK(classify_dnsbl_answer("127.255.255.254") == DnsblAnswer::list_error);
    CHECK(classify_dnsbl_answer("192.0.2.1") == DnsblAnswer::not_listed);
    CHECK(classify_dnsbl_answer("garbage") == DnsblAnswer::not_listed);
}

TEST_CASE("greylisting: triplets by /24 and /64", "[greylist]") {
    CHECK(greylist_key("192.0.2.77", "Alice@Example.NET", "bob@example.org") ==
          std::string("192.0.2.0/24|alice@example.net|bob@example.org"));
    CHECK(greylist_key("192.0.2.1", "a@b", "c@d") == greylist_key("192.0.2.254", "a@b", "c@d"));
    CHECK(greylist_key("192.0.3.1", "a@b", "c@d") != greylist_key("192.0.2.1", "a@b", "c@d"));
    CHECK(greylist_key("2001:db8:1:2:aaaa::1", "", "c@d") == std::string("2001:db8:1:2::/64||c@d"));
    CHECK(greylist_key("2001:db8:1:2:ffff::9", "", "c@d") == greylist_key("2001:db8:1:2::1", "", "c@d"));
    CHECK(greylist_key("::ffff:192.0.2.9", "a@b", "c@d") == greylist_key("192.0.2.1", "a@b", "c@d"));
    CHECK_FALSE(greylist_key("nope", "a@b", "c@d"));
}
