// Unit tests for relay/report: --since parsing and the aggregation of
// journal records into the downgrades, tls and auth reports (docs/reports.md).
#include <catch2/catch.hpp>

#include "relay/core/event_journal.hpp"
#include "relay/report/report.hpp"

using namespace mxgate;
using namespace mxgate::report;

namespace {

// Journal lines as the daemon writes them (to_json output).
std::vector<JournalRecord> journal(std::initializer_list<const char*> lines) {
    std::vector<JournalRecord> out;
    for (const char* l : lines) {
        JournalRecord r = core::parse_journal_line(l);
        REQUIRE_FALSE(r.empty());
        out.push_back(r);
    }
    return out;
}

}  // namespace

TEST_CASE("--since: RFC 3339 and relative durations", "[report]") {
    std::string err;
    const int64_t now = 1'795'000'000;  // 2026-11-18T11:06:40Z
    CHECK(parse_since("2026-11-22T10:00:00Z", now, err) == std::optional<std::string>("2026-11-22T10:00:00.000Z"));
    CHECK(parse_since("2026-11-22T12:00:00.5+02:00", now, err) ==
          std::optional<std::string>("2026-11-22T10:00:00.000Z"));
    CHECK(parse_since("2026-11-22T08:30:00-01:30", now, err) ==
          std::optional<std::string>("2026-11-22T10:00:00.000Z"));
    CHECK(parse_since("24h", now, err) == std::optional<std::string>("2026-11-17T11:06:40.000Z"));
    CHECK(parse_since("7d", now, err) == std::optional<std::string>("2026-11-11T11:06:40.000Z"));
    CHECK(parse_since("30m", now, err) == std::optional<std::string>("2026-11-18T10:36:40.000Z"));
    CHECK(parse_since("2w", now, err) == std::optional<std::string>("2026-11-04T11:06:40.000Z"));
    for (const char* bad : {"", "h", "24x", "yesterday", "2026-11-22", "2026-11-22T10:00:00", "2026-13-01T00:00:00Z",
                            "2026-11-22T10:00:00Zjunk", "-5h"}) {
        INFO(bad);
        err.clear();
        CHECK_FALSE(parse_since(bad, now, err));
        CHECK_FALSE(err.empty());
    }
}

TEST_CASE("downgrades: per sending host", "[report]") {
    const auto events = journal({
        R"({"ts":"2026-11-22T10:00:00.000Z","event":"tls.handshake_failed","session":"S1","client":"192.0.2.1","helo":"mx.a.example","error":"unsupported protocol","offered_versions":"<=TLSv1.1"})",
        R"({"ts":"2026-11-22T10:00:05.000Z","event":"tls.downgrade_suspected","session":"S2","client":"192.0.2.1","helo":"mx.a.example","sender":"bob@a.example","queue_id":"Q1","source":"handshake_failure","error":"unsupported protocol"})",
        R"({"ts":"2026-11-22T10:01:00.000Z","event":"tls.downgrade_suspected","session":"S3","client":"192.0.2.1","helo":"mx.a.example","sender":"carol@a.example","queue_id":"Q2","source":"handshake_failure","error":"unsupported protocol"})",
        R"({"ts":"2026-11-22T10:02:00.000Z","event":"tls.downgrade_suspected","session":"S4","client":"198.51.100.9","helo":"b.example","sender":"x@sts.example","queue_id":"Q3","source":"mta-sts","domain":"sts.example","error":""})",
        R"({"ts":"2026-11-22T10:03:00.000Z","event":"tls.handshake_failed","session":"S5","client":"203.0.113.5","helo":"","error":"no shared cipher"})",
        R"({"ts":"2026-11-22T10:04:00.000Z","event":"tls.would_refuse","session":"S6","client":"203.0.113.5","tls_version":"TLSv1.2","mode":"dry_run"})",
        // Outbound failure (no session): not a sending host.
        R"({"ts":"2026-11-22T10:05:00.000Z","event":"tls.handshake_failed","queue_id":"Q9","domain":"d.example","mx":"mx.d.example","error":"x"})",
        // Unrelated inbound events are ignored.
        R"({"ts":"2026-11-22T10:06:00.000Z","event":"tls.handshake","session":"S7","client":"192.0.2.1","tls_version":"TLSv1.3"})",
        R"({"ts":"2026-11-22T10:07:00.000Z","event":"lab.client","session":"S8","client":"203.0.113.5","result":"plaintext after strip"})",
    });
    const auto hosts = downgrades(events);
    REQUIRE(hosts.size() == 3);
    CHECK(hosts[0].client == "192.0.2.1");
    CHECK(hosts[0].tls_failures == 1);
    CHECK(hosts[0].plaintext_retries == 2);
    CHECK(hosts[0].senders == std::set<std::string>{"bob@a.example", "carol@a.example"});
    CHECK(hosts[0].queue_ids == std::set<std::string>{"Q1", "Q2"});
    CHECK(hosts[0].last_seen == "2026-11-22T10:01:00.000Z");  // the handshake event is not a downgrade signal
    CHECK(hosts[0].last_error == "unsupported protocol");
    CHECK(hosts[0].network == "192.0.2.0/24");
    CHECK(hosts[1].client == "203.0.113.5");
    CHECK(hosts[1].tls_failures == 1);
    CHECK(hosts[1].would_refuse == 1);
    CHECK(hosts[1].lab_events == 1);
    CHECK(hosts[1].lab_behaviour == std::set<std::string>{"plaintext after strip"});
    CHECK(hosts[2].client == "198.51.100.9");
    CHECK(hosts[2].suspect_domains == 1);
    CHECK(hosts[2].plaintext_retries == 0);

    const std::string text = downgrades_text(hosts);
    CHECK(text.find("HOST") == 0);
    // Columns are padded to the widest cell (HOST: "198.51.100.9", 12) plus two spaces.
    CHECK(text.find("\n192.0.2.1     mx.a.example  1             2 ") != std::string::npos);
    CHECK(text.find("bob@a.example,carol@a.example") != std::string::npos);
    CHECK(text.find("lab observations:\n  203.0.113.5: 1 event(s): plaintext after strip") != std::string::npos);
    const std::string json = downgrades_json(hosts);
    CHECK(json.find(R"({"client":"192.0.2.1","helo":"mx.a.example","network":"192.0.2.0/24","tls_failures":1,"plaintext_retries":2,)") !=
          std::string::npos);
    CHECK(downgrades_text({}) == "no TLS failures, downgrade suspicions or dry-run refusals recorded\n");
    CHECK(downgrades_json({}) == "{\"hosts\":[]}\n");
}

TEST_CASE("tls: inbound and outbound counted apart", "[report]") {
    const auto events = journal({
        R"({"ts":"t1","event":"tls.handshake","session":"S1","client":"192.0.2.1","tls_version":"TLSv1.3","cipher":"TLS_AES_256_GCM_SHA384"})",
        R"({"ts":"t2","event":"tls.handshake","session":"S2","client":"192.0.2.2","tls_version":"TLSv1.2","cipher":"ECDHE-RSA-AES256-GCM-SHA384"})",
        R"({"ts":"t3","event":"tls.handshake_failed","session":"S3","client":"192.0.2.3","error":"unsupported protocol"})",
        R"({"ts":"t4","event":"queue.accepted","session":"S1","client":"192.0.2.1","queue_id":"Q1","tls":"TLSv1.3"})",
        R"({"ts":"t5","event":"queue.accepted","session":"S4","client":"192.0.2.3","queue_id":"Q2","tls":"none"})",
        R"({"ts":"t6","event":"tls.downgrade_suspected","session":"S4","client":"192.0.2.3","source":"handshake_failure"})",
        R"({"ts":"t7","event":"tls.handshake","queue_id":"Q1","domain":"example.org","mx":"home","tls_version":"TLSv1.3","cipher":"TLS_AES_128_GCM_SHA256"})",
        R"({"ts":"t8","event":"tls.handshake_failed","queue_id":"Q2","domain":"old.example","mx":"mx.old","error":"wrong version number"})",
        R"({"ts":"t9","event":"tls.plaintext_fallback","queue_id":"Q2","domain":"old.example","mx":"mx.old","error":"wrong version number"})",
        R"({"ts":"t10","event":"delivery.success","queue_id":"Q2","domain":"old.example"})",
        R"({"ts":"t11","event":"tls.policy","domain":"bank.example","level":"mta-sts","source":"mta-sts"})",
    });
    const TlsSummary s = tls_summary(events);
    CHECK(s.inbound.handshakes == 2);
    CHECK(s.inbound.versions == std::map<std::string, int>{{"TLSv1.2", 1}, {"TLSv1.3", 1}});
    CHECK(s.inbound.failed == 1);
    CHECK(s.inbound.failures == std::map<std::string, int>{{"unsupported protocol", 1}});
    CHECK(s.inbound_messages_tls == 1);
    CHECK(s.inbound_messages_plaintext == 1);
    CHECK(s.downgrade_suspected == 1);
    CHECK(s.outbound.handshakes == 1);
    CHECK(s.outbound.ciphers == std::map<std::string, int>{{"TLS_AES_128_GCM_SHA256", 1}});
    CHECK(s.outbound.failures == std::map<std::string, int>{{"wrong version number", 1}});
    CHECK(s.fallbacks == std::map<std::string, int>{{"old.example", 1}});
    CHECK(s.deliveries == 1);
    CHECK(s.policies == std::map<std::string, int>{{"mta-sts/mta-sts", 1}});
    const std::string text = tls_text(s);
    CHECK(text.find("inbound: 2 handshakes, 1 failed; messages 1 over TLS, 1 in plaintext; 1 downgrade suspicions") == 0);
    CHECK(text.find("fallback  old.example") != std::string::npos);
    CHECK(tls_json(s).find(R"("plaintext_fallbacks":{"old.example":1})") != std::string::npos);
}

TEST_CASE("auth: logins per user and network, lockouts, cleartext exposures", "[report]") {
    const auto events = journal({
        R"({"ts":"2026-11-22T10:00:00.000Z","event":"auth.success","session":"S1","client":"192.0.2.10","user":"alice"})",
        R"({"ts":"2026-11-22T10:01:00.000Z","event":"auth.success","session":"S2","client":"192.0.2.11","user":"alice","network":"192.0.2.0/24"})",
        R"({"ts":"2026-11-22T10:02:00.000Z","event":"auth.new_network","session":"S3","client":"2001:db8::1","user":"alice"})",
        R"({"ts":"2026-11-22T10:02:00.000Z","event":"auth.success","session":"S3","client":"2001:db8::1","user":"alice"})",
        R"({"ts":"2026-11-22T10:03:00.000Z","event":"auth.failure","session":"S4","client":"203.0.113.1","user":"bob"})",
        R"({"ts":"2026-11-22T10:04:00.000Z","event":"auth.locked","session":"S5","client":"203.0.113.1","user":"bob"})",
        R"({"ts":"2026-11-22T10:05:00.000Z","event":"auth.cleartext_exposure","session":"S6","client":"203.0.113.2","user":"carol","valid":true})",
        R"({"ts":"2026-11-22T10:06:00.000Z","event":"auth.cleartext_exposure","session":"S7","client":"203.0.113.3","user":"","valid":null})",
        R"({"ts":"2026-11-22T10:07:00.000Z","event":"auth.network_denied","session":"S8","client":"198.51.100.1","user":"relay"})",
    });
    const AuthSummary s = auth_summary(events);
    REQUIRE(s.lines.size() == 4);
    CHECK(s.lines[0].user == "alice");
    CHECK(s.lines[0].network == "192.0.2.0/24");
    CHECK(s.lines[0].successes == 2);
    CHECK(s.lines[1].user == "alice");
    CHECK(s.lines[1].network == "2001:db8::/64");
    CHECK(s.lines[1].new_network);
    CHECK(s.lines[2].user == "bob");
    CHECK(s.lines[2].failures == 1);
    CHECK(s.lines[3].user == "relay");
    CHECK(s.lines[3].denied == 1);
    CHECK(s.lockouts == std::map<std::string, int>{{"bob", 1}});
    REQUIRE(s.cleartext.size() == 2);
    CHECK(s.cleartext[0].user == "carol");
    CHECK(s.cleartext[0].valid == "true");
    CHECK(s.cleartext[1].valid.empty());
    const std::string text = auth_text(s);
    CHECK(text.find("USER   NETWORK") == 0);
    CHECK(text.find("lockouts: bob (1)") != std::string::npos);
    CHECK(text.find("cleartext exposures: 2") != std::string::npos);
    const std::string json = auth_json(s);
    CHECK(json.find(R"({"user":"carol","client":"203.0.113.2","valid":true})") == std::string::npos);  // ts first
    CHECK(json.find(R"("user":"carol","client":"203.0.113.2","valid":true})") != std::string::npos);
    CHECK(json.find(R"("user":"","client":"203.0.113.3","valid":null})") != std::string::npos);
}

TEST_CASE("text output never passes control characters to the terminal", "[report]") {
    CHECK(printable("a\x1b[31mb\n") == "a?[31mb?");
    CHECK(table({{"A", "B"}, {"x\ty", "z"}}) == "A    B\nx?y  z\n");
}
