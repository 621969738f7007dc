// Unit tests for auth::sender_allowed (SPEC §5 sender binding).
#include <catch2/catch.hpp>

#include "auth/senders.hpp"
#include "tests/unit/conf/helpers.hpp"

using namespace mxgate;

TEST_CASE("auth.senders: exact addresses and @domain entries", "[auth][senders]") {
    const auto cfg = conf::test::load_ok(conf::test::kBase +
                                         "auth:\n"
                                         "  senders: { relay: ['@example.org'], alice: ['Alice@Example.org'] }\n");
    struct Row {
        const char* user;
        const char* address;
        bool allowed;
    };
    const Row rows[] = {
        {"relay", "anyone@example.org", true},
        {"relay", "anyone@EXAMPLE.ORG", true},
        {"relay", "anyone@sub.example.org", false},  // not subdomains
        {"relay", "anyone@example.org.evil", false},
        {"relay", "example.org", false},
        {"alice", "alice@example.org", true},
        {"alice", "ALICE@example.org", true},
        {"alice", "bob@example.org", false},
        {"alice", "alice@example.org@evil.test", false},
        {"bob", "bob@example.org", false},  // no entry: nobody
        {"alice", "", false},
        {"alice", "@example.org", false},
    };
    for (const Row& r : rows) {
        INFO(r.user << " as " << r.address);
        CHECK(auth::sender_allowed(cfg->auth, r.user, r.address) == r.allowed);
    }
}
