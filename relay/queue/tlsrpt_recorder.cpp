#include "relay/queue/tlsrpt_recorder.hpp"

namespace mxgate::queue {

std::string tlsrpt_results_key(const std::string& day, const std::string& domain) {
    return "results/" + day + "/" + domain;
}

std::string tlsrpt_sent_key(const std::string& day, const std::string& domain) {
    return "sent/" + day + "/" + domain;
}

std::optional<std::pair<std::string, std::string>> parse_tlsrpt_results_key(const std::string& key) {
    const std::string prefix = "results/";
    if (key.rfind(prefix, 0) != 0 || key.size() < prefix.size() + 12) return std::nullopt;
    const std::string day = key.substr(prefix.size(), 10);
    if (key[prefix.size() + 10] != '/' || !tlspolicy::utc_day_start(day)) return std::nullopt;
    return std::make_pair(day, key.substr(prefix.size() + 11));
}

std::string peer_ip(const std::string& peer) {
    const size_t open = peer.rfind('[');
    const size_t close = peer.rfind(']');
    if (open == std::string::npos || close == std::string::npos || close < open) return "";
    return peer.substr(open + 1, close - open - 1);
}

tlspolicy::SessionFacts session_facts(const client::DeliveryOutcome& r) {
    tlspolicy::SessionFacts f;
    f.connected = r.connected;
    f.starttls_offered = r.tls.starttls_offered;
    f.starttls_refused = r.tls.error.rfind("STARTTLS refused", 0) == 0;
    const bool handshake_done = !r.tls.info.version.empty();
    f.established = handshake_done;
    f.handshake_failed = r.tls.attempted && !handshake_done && !f.starttls_refused;
    f.chain_verified = r.tls.info.chain_verified;
    f.verify_error = r.tls.info.verify_error;
    f.name_matched = r.tls.name_matched;
    f.dane_matched = !r.tls.dane_match.empty();
    f.error = r.tls.error;
    return f;
}

void TlsRptRecorder::record(const std::string& policy_domain, const tlspolicy::RptPolicy& policy,
                            const tlspolicy::Classified& result, const tlspolicy::RptFailure& where,
                            int64_t now) {
    if (result.result == tlspolicy::RptResult::not_counted || policy_domain.empty()) return;
    const std::string day = tlspolicy::utc_day(now);
    if (day != day_) {
        cache_.clear();
        day_ = day;
    }
    const std::string key = tlsrpt_results_key(day, policy_domain);
    auto it = cache_.find(policy_domain);
    if (it == cache_.end()) {
        // A restart during the day continues the stored record.
        tlspolicy::DayResults d;
        if (auto raw = store_.get(key))
            if (auto parsed = tlspolicy::decode(*raw)) d = std::move(*parsed);
        it = cache_.emplace(policy_domain, std::move(d)).first;
    }
    it->second.add(policy, result, where);
    store_.put(key, tlspolicy::encode(it->second));
}

}  // namespace mxgate::queue
