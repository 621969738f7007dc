// conf/config.hpp — the typed, immutable configuration snapshot (SPEC §3).
//
// Every field carries the strict default the contract names. conf/loader.cpp
// fills it from YAML; nothing else writes it. SIGHUP builds a new snapshot
// and swaps a shared_ptr<const Config>; a session keeps the one it began with.
//
// SECURITY: values come from an administrator's file, but a typo must never
// weaken a setting: unknown keys and keys of unbuilt features are errors.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::conf {

using Duration = std::chrono::seconds;

// Where a value came from, for diagnostics that point back into the file.
struct Mark {
    std::string file;
    int line = 0;  // 1-based; 0 = default, not from the file
    int col = 0;
};

// host:port as written; host may be a bracketed IPv6 literal or a name.
struct HostPort {
    std::string host;
    uint16_t port = 0;
    std::string text() const;  // "host:port" / "[v6]:port"
};

// An IPv4 or IPv6 network in CIDR form ("198.51.100.0/24", "2001:db8::/32").
struct Network {
    std::string text;  // canonical CIDR text
    bool v6 = false;
    std::array<uint8_t, 16> addr{};  // v4 in the first 4 bytes
    int prefix = 0;
    bool contains(const std::array<uint8_t, 16>& a, bool is_v6) const;
};

enum class LogFormat { json, text };
enum class LogLevel { debug, info, warn, error };

struct LogConfig {
    LogFormat format = LogFormat::json;
    LogLevel level = LogLevel::info;
    std::string file = "stderr";  // "stderr", "stdout" or a path
};

enum class ListenerRole { mx, submission, lab };
enum class ListenerTls { none, starttls, implicit };

struct LabConfig {
    enum class StartTls { strip, refuse_454, fail_handshake, offer };
    StartTls starttls = StartTls::offer;
    std::vector<std::string> protocols;  // OpenSSL names
    enum class Certificate { expired, self_signed, wrong_name, valid };
    Certificate certificate = Certificate::valid;
    bool auth_trap = false;
};

// Named cipher profiles (SPEC §7); overrides applied key by key.
enum class TlsProfileName { strict, modern, intermediate, compat };

struct TlsProfile {
    TlsProfileName name = TlsProfileName::modern;
    std::optional<std::string> min_version;   // "TLSv1.2"
    std::optional<std::string> ciphers;       // TLS 1.2 and below
    std::optional<std::string> ciphersuites;  // TLS 1.3
    std::optional<std::string> groups;
};

struct Listener {
    std::string name;
    ListenerRole role = ListenerRole::mx;
    HostPort address;
    ListenerTls tls = ListenerTls::starttls;
    std::optional<LabConfig> lab;
    // Replaces tls.inbound's profile (and overrides) on this listener
    // (issue 5: inbound profiles per listener); nullopt = tls.inbound's.
    std::optional<TlsProfile> tls_profile;
    Mark mark;
};

// Ordered: level >= encrypt means TLS is mandatory and a failure defers,
// never falls back (SPEC §7). Keep the order when adding levels.
enum class OutboundLevel { none = 0, opportunistic = 1, encrypt = 2, verify = 3, dane = 4, mta_sts = 5 };
inline bool tls_mandatory(OutboundLevel l) { return l >= OutboundLevel::encrypt; }

enum class Fallback { plaintext_logged, defer };

struct DomainTlsPolicy {
    OutboundLevel level = OutboundLevel::opportunistic;
    std::vector<std::string> match;  // replaces the MX-name check; ".x" = subdomains
    std::optional<TlsProfile> profile;
};

struct TlsRpt {
    bool enabled = true;
    std::string organization;
    std::string contact;
};

struct InboundTls {
    TlsProfile profile{TlsProfileName::modern, {}, {}, {}, {}};
    std::vector<std::string> require_tls_domains;  // sender domains
    std::vector<Network> require_tls_networks;     // client networks
    std::optional<TlsProfile> dry_run;
};

struct OutboundTls {
    OutboundLevel default_level = OutboundLevel::opportunistic;
    bool use_mta_sts = true;
    bool use_dane = true;
    TlsProfile profile{TlsProfileName::intermediate, {}, {}, {}, {}};
    Fallback fallback = Fallback::plaintext_logged;
    std::map<std::string, DomainTlsPolicy> policies;  // lower-case domain
    TlsRpt tlsrpt;
};

struct TlsConfig {
    std::string certificate = "/etc/mxgate/fullchain.pem";
    std::string key = "/etc/mxgate/privkey.pem";
    // Development only: create a self-signed pair at these paths if absent.
    bool generate_self_signed = false;
    std::string ca_file = "system";
    InboundTls inbound;
    OutboundTls outbound;
};

enum class DnssecMode { trust_ad, validate, off };

struct DnsConfig {
    std::optional<HostPort> resolver;  // nullopt = system (/etc/resolv.conf)
    DnssecMode dnssec = DnssecMode::trust_ad;
    // Extension (docs/dns.md): with dnssec: validate, a trust-anchor file
    // (DS or DNSKEY records in zone-file format) used instead of the root
    // anchor — for a private signed zone, or tests. "" = the root anchor.
    std::string trust_anchor;
};

enum class DownstreamTls { verify, pin, encrypt, opportunistic, none };

struct DownstreamAuth {
    std::string username;
    std::string password_file;
};

struct Downstream {
    HostPort address;
    bool lmtp = false;
    DownstreamTls tls = DownstreamTls::verify;
    std::vector<std::string> pin;  // "sha256:BASE64"
    std::optional<DownstreamAuth> auth;
};

struct DkimSign {
    std::string selector;
    std::string key;
};

struct Domain {
    std::string name;  // lower-case
    // Exact addresses (lower-case) and "@domain" entries, after reading any file.
    std::vector<std::string> recipients;
    std::optional<std::string> recipients_file;
    Downstream downstream;
    std::optional<DkimSign> dkim;
    Mark mark;
};

enum class CleartextAction { log, lock };

struct AuthConfig {
    std::string sasl_service = "smtp";
    std::vector<std::string> mechanisms{"PLAIN", "LOGIN", "SCRAM-SHA-256"};
    std::string sasldb = "/etc/mxgate/sasldb2";
    std::optional<std::string> realm;  // default: hostname
    std::map<std::string, std::vector<std::string>> senders;
    std::map<std::string, std::vector<Network>> networks;
    std::vector<Network> deny_networks;
    int lockout_failures = 5;
    Duration lockout_window = std::chrono::minutes(15);
    Duration lockout_duration = std::chrono::hours(1);
    CleartextAction on_cleartext_credentials = CleartextAction::lock;
};

enum class Quarantine { header, hold, reject };

// policy.dmarc.reports (repository extension, docs/dmarc-reports.md): daily
// RFC 7489 aggregate reports to the rua of the domains mail came from.
struct DmarcReports {
    bool enabled = false;
    std::string organization;  // org_name / Submitter:; empty = hostname
    std::string contact;       // report_metadata email (required when enabled)
    std::string from;          // From: and envelope sender; empty = contact
};
enum class SpoofAction { reject };

struct PolicyConfig {
    bool spf = true;
    bool dkim_verify = true;
    bool dmarc_enforce = true;
    Quarantine quarantine = Quarantine::header;
    DmarcReports dmarc_reports;
    std::string public_suffix_list = "/usr/share/publicsuffix/public_suffix_list.dat";
    SpoofAction own_domain_spoofing = SpoofAction::reject;
    // Third parties allowed to send as an owner's domain (newsletters): a
    // passing DKIM signature with d= in the list, or an SPF pass for a MAIL
    // FROM domain in the list, counts as authenticated for the owner's domains.
    std::vector<std::string> own_domain_senders;
    std::vector<std::string> dnsbl;
    bool greylisting = false;
    Duration greylisting_delay = std::chrono::minutes(5);
};

struct Timeouts {
    Duration command = std::chrono::minutes(5);
    Duration data_block = std::chrono::minutes(3);
    Duration tls_handshake = std::chrono::seconds(30);
};

struct Limits {
    uint64_t message_size = 50ull * 1024 * 1024;
    int recipients = 100;
    int connections = 2000;
    int connections_per_ip = 20;
    int line_length = 1000;  // message text line, octets incl. CRLF
    Timeouts timeouts;
};

struct QueueConfig {
    std::vector<Duration> retry{std::chrono::minutes(5),  std::chrono::minutes(10),
                                std::chrono::minutes(30), std::chrono::hours(1),
                                std::chrono::hours(2),    std::chrono::hours(4)};
    Duration max_lifetime = std::chrono::hours(24 * 5);
    Duration delay_warning = std::chrono::hours(4);
};

struct Metrics {
    std::optional<HostPort> address;  // absent = off
};

struct Config {
    std::string source_file;  // path it was loaded from
    std::string hostname;     // default: system FQDN
    std::string spool = "/var/spool/mxgate";
    LogConfig log;
    std::vector<Listener> listeners;
    TlsConfig tls;
    DnsConfig dns;
    std::vector<Domain> domains;
    AuthConfig auth;
    PolicyConfig policy;
    Limits limits;
    QueueConfig queue;
    Metrics metrics;

    // The owner's domain entry for a (lower-case) domain, or nullptr.
    const Domain* find_domain(std::string_view domain) const;
};

}  // namespace mxgate::conf
