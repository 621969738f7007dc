// relay/report/report.hpp — `mxgate report` (SPEC §2, §7): summaries built
// from the event journal (<spool>/state/events.jsonl, relay/core/
// event_journal.hpp). Pure functions over journal records, so the
// aggregation is unit-tested without a daemon; relay/cli/report.cpp only
// parses arguments and prints.
//
//   downgrades  per sending host: inbound TLS failures, plaintext retries
//               (tls.downgrade_suspected after a failed handshake), plaintext
//               from MTA-STS/DANE domains, dry-run refusals, lab
//               observations, last seen, senders affected
//   tls         inbound and outbound: versions and ciphers negotiated,
//               handshake failures by error, plaintext messages, plaintext
//               fallbacks per destination, dry-run refusals
//   auth        logins per user and network, failures, lockouts, cleartext
//               exposures, denied and new networks
//
// SECURITY: every field is peer-controlled text that went through the
// journal; text output replaces control characters, JSON escapes them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "relay/core/event_journal.hpp"

namespace mxgate::report {

using core::JournalRecord;

// --since: RFC 3339 ("2026-11-22T10:00:00Z", "...+02:00", fractions allowed)
// or a relative duration back from `now` ("30m", "24h", "7d", "2w").
// Returns the journal's timestamp form ("2026-11-22T08:00:00.000Z"), or
// nullopt with `error` set.
std::optional<std::string> parse_since(const std::string& text, int64_t now, std::string& error);

// ---- downgrades

struct DowngradeHost {
    std::string client;             // IP address
    std::string helo;               // last HELO seen
    std::string network;            // /24 or /64
    int tls_failures = 0;           // inbound tls.handshake_failed
    int plaintext_retries = 0;      // tls.downgrade_suspected, source handshake_failure
    int suspect_domains = 0;        // tls.downgrade_suspected, source mta-sts / dane
    int would_refuse = 0;           // tls.would_refuse (dry run)
    int lab_events = 0;             // lab.* observations of this client
    std::string last_seen;          // ts of the newest of those events
    std::string last_error;         // newest TLS error
    std::set<std::string> senders;  // envelope senders of the suspected messages
    std::set<std::string> queue_ids;
    std::set<std::string> offered_versions;  // what it offered in failed handshakes
    std::set<std::string> lab_behaviour;     // lab.* result/reason values
};
// Hosts with at least one of the above, most plaintext retries first.
std::vector<DowngradeHost> downgrades(const std::vector<JournalRecord>& events);
std::string downgrades_text(const std::vector<DowngradeHost>& hosts);
std::string downgrades_json(const std::vector<DowngradeHost>& hosts);

// ---- tls

struct TlsDirection {
    std::map<std::string, int> versions;  // "TLSv1.3" -> handshakes
    std::map<std::string, int> ciphers;   // cipher -> handshakes
    std::map<std::string, int> failures;  // error -> failed handshakes
    int handshakes = 0;
    int failed = 0;
};
struct TlsSummary {
    TlsDirection inbound, outbound;
    int inbound_messages_tls = 0;        // queue.accepted with tls != none
    int inbound_messages_plaintext = 0;  // queue.accepted with tls = none
    int downgrade_suspected = 0;
    int would_refuse = 0;
    std::map<std::string, int> fallbacks;             // destination domain -> tls.plaintext_fallback
    std::map<std::string, int> destination_downgrades;  // domain -> tls.destination_downgrade
    std::map<std::string, int> policies;              // "level/source" -> tls.policy
    int deliveries = 0;                               // delivery.success
};
TlsSummary tls_summary(const std::vector<JournalRecord>& events);
std::string tls_text(const TlsSummary& s);
std::string tls_json(const TlsSummary& s);

// ---- auth

struct AuthLine {
    std::string user, network;
    int successes = 0, failures = 0, denied = 0;
    bool new_network = false;
    std::string last_seen;
};
struct CleartextExposure {
    std::string ts, user, client, valid;  // valid: "true", "false" or "" (unknown)
};
struct AuthSummary {
    std::vector<AuthLine> lines;        // by user, then network
    std::map<std::string, int> lockouts;  // user or client -> auth.locked
    std::vector<CleartextExposure> cleartext;
};
AuthSummary auth_summary(const std::vector<JournalRecord>& events);
std::string auth_text(const AuthSummary& s);
std::string auth_json(const AuthSummary& s);

// ---- shared helpers (report_format.cpp)

// A JSON string literal.
std::string json_quote(const std::string& s);
// Peer text made safe for a terminal: control characters become '?'.
std::string printable(const std::string& s);
// Left-aligned columns, two spaces apart; the first row is the header.
std::string table(const std::vector<std::vector<std::string>>& rows);

}  // namespace mxgate::report
