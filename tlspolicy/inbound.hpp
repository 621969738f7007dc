// tlspolicy/inbound.hpp — inbound TLS observability (SPEC §7, issue 5):
// what a client offered in its ClientHello, the dry run of a stricter
// profile, require_tls matching, the downgrade tracker (failed handshakes
// remembered per client, matched against later plaintext deliveries) and
// the sending domain's published TLS posture (MTA-STS / DANE).
//
// Interface:
//   capture_client_hello(ctx)   installed on every server context; afterwards
//                               offered_hello(ssl) tells what the peer offered,
//                               also after a failed handshake
//   DryRun                      a stricter profile compiled once per config;
//                               would_refuse(version, cipher) -> reason or ""
//   require_tls_match()         "" or why plaintext MAIL must get 530 5.7.0
//   same_client()               SPEC §7's "same client" rule (pure)
//   DowngradeTracker            failures by client, persisted in a StateStore
//   SenderPosture               cached light DNS check of a sender domain
//
// SECURITY: everything here is peer-controlled (ClientHello bytes, HELO
// names, sender domains, DNS answers). ClientHello lists are bounded, the
// tracker is bounded in size and time, and DNS answers only ever make
// mxgate *more* suspicious, never less strict.
// RFCs: 8446 §4.1.2 and §4.2.1 (ClientHello, supported_versions), 8461
// (MTA-STS TXT record), 7672 (DANE for SMTP), 3207.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "relay/core/resolver.hpp"
#include "relay/core/state_store.hpp"
#include "tlspolicy/downgrade_record.hpp"
#include "tlspolicy/mta_sts_client.hpp"
#include "tlspolicy/mta_sts_record.hpp"

namespace mxgate::tlspolicy {

// ---- client_hello.cpp

struct OfferedHello {
    bool seen = false;                  // a ClientHello arrived at all
    std::vector<std::string> versions;  // "TLSv1.3", "TLSv1.2"; "<=TLSv1.1" without supported_versions
    std::vector<std::string> ciphers;   // OpenSSL names, or "0xC0FF" when unknown (at most 64)
    std::string server_name;            // SNI, if any
};
// Installs the ClientHello callback on a server context (make_server_context
// does this for every inbound context). It only records; it never refuses.
void capture_client_hello(SSL_CTX* ctx);
OfferedHello offered_hello(SSL* ssl);  // empty (seen=false) when nothing was recorded
// "TLSv1.2,TLSv1.3" style text for events ("" when empty).
std::string join_list(const std::vector<std::string>& items, char sep = ',');

// ---- dry_run.cpp

// A stricter profile evaluated alongside the real one (tls.inbound.dry_run).
class DryRun {
public:
    // nullptr + error when the profile does not resolve.
    static std::shared_ptr<const DryRun> make(const conf::TlsProfile& profile, std::string& error);
    // Why the dry-run profile would have refused a handshake that negotiated
    // `version` ("TLSv1.2") and `cipher` (OpenSSL name); "" when it would not.
    std::string would_refuse(const std::string& version, const std::string& cipher) const;
    const std::string& name() const { return name_; }

private:
    std::string name_;
    int min_version = 0;
    int max_version = 0;
    std::set<std::string> ciphers12_;  // TLS <= 1.2 cipher names the profile allows
    std::set<std::string> suites13_;   // TLS 1.3 suites it allows
};

// ---- require_tls.cpp

// Why plaintext MAIL from `client_ip` with envelope sender `sender` must be
// refused with 530 5.7.0 ("" = allowed): the sender's domain (or a parent
// domain) is in require_tls, or the client is inside a listed network.
std::string require_tls_match(const conf::InboundTls& in, const std::string& client_ip, const std::string& sender);
// Lower-cased domain of an address ("" for the null sender or no '@').
std::string sender_domain(const std::string& address);

// ---- downgrade_tracker.cpp

// HandshakeFailure, encode_failure/decode_failure, client_network() and
// same_client(): tlspolicy/downgrade_record.hpp (pure, fuzzed).

// What record() leaves for the store: one record to write, records to drop.
struct TrackerWrites {
    std::string key, value;           // empty key: nothing to write
    std::vector<std::string> erased;  // expired or over the bound
    bool empty() const { return key.empty() && erased.empty(); }
};

// Failed inbound handshakes of the last `window` (24 h), by client and HELO.
// One mutex; the in-memory index answers lookups, the StateStore (namespace
// "tls_failures", one record per client+HELO) makes it survive restarts.
// record() only touches memory; persist() does the (blocking, fsync'ed)
// store writes and belongs on the blocking pool (core::offload), never on
// the I/O thread.
class DowngradeTracker {
public:
    // store may be null (tests): memory only.
    explicit DowngradeTracker(std::shared_ptr<core::StateStore> store,
                              std::chrono::seconds window = std::chrono::hours(24), size_t max_entries = 20000);
    // Reads the store, dropping records older than the window. Returns how many were kept.
    size_t load(int64_t now);
    // Remembers a failure in memory; returns the store writes it needs.
    TrackerWrites record(const HandshakeFailure& f);
    // Blocking: writes the record durably (temp file, fsync, rename, fsync of
    // the directory) and drops the erased ones. Thread-safe; no-op without a store.
    void persist(const TrackerWrites& w) const;
    // The most recent failure of the same client within the window before `now`.
    std::optional<HandshakeFailure> match(const std::string& ip, const std::string& helo, int64_t now) const;
    size_t size() const;

    static std::string encode(const HandshakeFailure& f) { return encode_failure(f); }
    static std::optional<HandshakeFailure> decode(const std::string& text) { return decode_failure(text); }

private:
    void prune_locked(int64_t now, std::vector<std::string>* erased);
    mutable std::mutex mu_;
    std::shared_ptr<core::StateStore> store_;
    std::chrono::seconds window_;
    size_t max_entries_;
    std::map<std::string, HandshakeFailure> by_key_;  // "ip|helo"
};

// ---- sender_posture.cpp

// What a sending domain publishes about its own TLS: mail from it in
// plaintext is suspect. It counts when the domain's MTA-STS policy (TXT
// record, then the HTTPS policy through the daemon's MTA-STS cache) is in
// mode enforce, or when its first MX hosts have DNSSEC-authenticated TLSA
// records.
struct Posture {
    bool mta_sts = false;     // an MTA-STS policy in mode enforce
    std::string sts_id;
    std::string sts_mode;     // "enforce", "testing", "none"; "" = no policy known
    std::string sts_note;     // why there is no policy (TXT or fetch problem), for logs
    bool dane = false;
    std::string dane_mx;  // the MX host with TLSA records
};
// mta_sts_record_id(): tlspolicy/mta_sts_record.hpp.

// Where SenderPosture gets MTA-STS policies: resolve_mta_sts() with the
// daemon's HTTPS client context and its MTA-STS cache (the StateStore
// "mta-sts" the outbound side uses), so a policy is fetched at most once
// per max_age whichever side needs it first.
struct StsSource {
    ContextPtr https_ctx;
    std::shared_ptr<core::StateStore> cache;
    core::EventSink* events = nullptr;  // mta_sts.fetched / mta_sts.failed
    StsFetchOptions opts;
};

class SenderPosture {
public:
    explicit SenderPosture(std::chrono::seconds ttl = std::chrono::hours(1)) : ttl_(ttl) {}
    // Cached result for `domain` when fresh.
    std::optional<Posture> cached(const std::string& domain, int64_t now) const;
    // Looks up and caches (a temporary DNS failure or a failed policy fetch
    // is cached briefly). Without an StsSource (or without its cache or
    // context) MTA-STS never counts: a TXT record alone cannot tell enforce
    // from testing.
    boost::asio::awaitable<Posture> check(core::Resolver& r, std::string domain, const StsSource* sts);

private:
    mutable std::mutex mu_;
    std::chrono::seconds ttl_;
    std::map<std::string, std::pair<int64_t, Posture>> cache_;
};

}  // namespace mxgate::tlspolicy
