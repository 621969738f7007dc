// relay/queue/tlsrpt_recorder.hpp — records each outbound session's TLS-RPT
// result (RFC 8460) per policy domain and UTC day in the spool's state
// store, namespace "tlsrpt" (docs/tlsrpt.md):
//
//   results/<YYYY-MM-DD>/<policy domain>  tlspolicy::encode(DayResults)
//   sent/<YYYY-MM-DD>/<policy domain>     "<unix time> <report-id> <outcome>"
//
// Why the state store and not the event journal: a report needs the policy
// strings, the failure reason and the addresses of every session, which the
// journal's events do not carry; one small record per domain and day is
// cheap to update and to read back at sending time.
// Writes are not fsync'ed (like the MTA-STS cache): a crash may lose the
// last sessions' counts, never corrupt a record (atomic rename).
//
// The courier (one I/O thread) is the only writer; the daily sender and
// `mxgate report tls` read. A day's record is only written during that UTC
// day, so a completed day is stable when the sender reads it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "relay/client/client.hpp"
#include "relay/core/state_store.hpp"
#include "tlspolicy/tlsrpt_aggregate.hpp"

namespace mxgate::queue {

inline constexpr const char* kTlsRptStore = "tlsrpt";

std::string tlsrpt_results_key(const std::string& day, const std::string& domain);
std::string tlsrpt_sent_key(const std::string& day, const std::string& domain);
// "results/<day>/<domain>" -> {day, domain}; nullopt for other keys.
std::optional<std::pair<std::string, std::string>> parse_tlsrpt_results_key(const std::string& key);

// The session half of SessionFacts, from what the client saw.
tlspolicy::SessionFacts session_facts(const client::DeliveryOutcome& r);
// "mx.example[192.0.2.1]:25" -> "192.0.2.1" ("" when not in that form).
std::string peer_ip(const std::string& peer);

class TlsRptRecorder {
public:
    explicit TlsRptRecorder(core::StateStore store) : store_(std::move(store)) {}
    // Adds one classified session for policy_domain at time `now`.
    void record(const std::string& policy_domain, const tlspolicy::RptPolicy& policy,
                const tlspolicy::Classified& result, const tlspolicy::RptFailure& where, int64_t now);

private:
    core::StateStore store_;
    std::string day_;                                        // the day cache_ belongs to
    std::map<std::string, tlspolicy::DayResults> cache_;     // domain -> today's results
};

}  // namespace mxgate::queue
