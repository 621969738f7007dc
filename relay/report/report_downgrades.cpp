// relay/report/report_downgrades.cpp — `mxgate report downgrades`: per
// sending host, what SPEC §7's downgrade detection saw.
#include <algorithm>

#include "relay/report/report.hpp"
#include "tlspolicy/inbound.hpp"

namespace mxgate::report {
namespace {

const std::string& field(const JournalRecord& r, const char* name) {
    static const std::string kEmpty;
    const auto it = r.find(name);
    return it == r.end() ? kEmpty : it->second;
}

std::string join(const std::set<std::string>& s, const char* sep) {
    std::string out;
    for (const auto& x : s) {
        if (!out.empty()) out += sep;
        out += x;
    }
    return out;
}

std::string json_list(const std::set<std::string>& s) {
    std::string out = "[";
    for (const auto& x : s) {
        if (out.size() > 1) out += ',';
        out += json_quote(x);
    }
    return out + "]";
}

}  // namespace

std::vector<DowngradeHost> downgrades(const std::vector<JournalRecord>& events) {
    std::map<std::string, DowngradeHost> hosts;
    for (const JournalRecord& r : events) {
        const std::string& name = field(r, "event");
        const std::string& client = field(r, "client");
        // Inbound events carry the session; outbound ones (mx, queue_id) do not.
        const bool inbound = !field(r, "session").empty() && !client.empty();
        const bool lab = name.rfind("lab.", 0) == 0 && !client.empty();
        if (!inbound && !lab) continue;
        const bool failure = name == "tls.handshake_failed";
        const bool suspected = name == "tls.downgrade_suspected";
        const bool refuse = name == "tls.would_refuse";
        if (!failure && !suspected && !refuse && !lab) continue;
        DowngradeHost& h = hosts[client];
        h.client = client;
        if (!field(r, "helo").empty()) h.helo = field(r, "helo");
        h.network = tlspolicy::client_network(client);
        h.last_seen = std::max(h.last_seen, field(r, "ts"));
        if (failure) {
            ++h.tls_failures;
            h.last_error = field(r, "error");
            if (!field(r, "offered_versions").empty()) h.offered_versions.insert(field(r, "offered_versions"));
        } else if (suspected) {
            if (field(r, "source") == "handshake_failure") {
                ++h.plaintext_retries;
                if (h.last_error.empty()) h.last_error = field(r, "error");
            } else {
                ++h.suspect_domains;
            }
            h.senders.insert(field(r, "sender").empty() ? "<>" : field(r, "sender"));
            if (!field(r, "queue_id").empty()) h.queue_ids.insert(field(r, "queue_id"));
        } else if (refuse) {
            ++h.would_refuse;
        } else {
            ++h.lab_events;
            const std::string& what = !field(r, "result").empty() ? field(r, "result") : field(r, "reason");
            h.lab_behaviour.insert(what.empty() ? name : what);
        }
    }
    std::vector<DowngradeHost> out;
    for (auto& [k, h] : hosts) out.push_back(std::move(h));
    std::stable_sort(out.begin(), out.end(), [](const DowngradeHost& a, const DowngradeHost& b) {
        if (a.plaintext_retries != b.plaintext_retries) return a.plaintext_retries > b.plaintext_retries;
        if (a.tls_failures != b.tls_failures) return a.tls_failures > b.tls_failures;
        return a.last_seen > b.last_seen;
    });
    return out;
}

std::string downgrades_text(const std::vector<DowngradeHost>& hosts) {
    if (hosts.empty()) return "no TLS failures, downgrade suspicions or dry-run refusals recorded\n";
    std::vector<std::vector<std::string>> rows{{"HOST", "HELO", "TLS FAILURES", "PLAINTEXT RETRIES", "SUSPECT DOMAINS",
                                                "WOULD REFUSE", "LAST SEEN", "SENDERS AFFECTED", "LAST TLS ERROR"}};
    for (const auto& h : hosts)
        rows.push_back({h.client, h.helo.empty() ? "-" : h.helo, std::to_string(h.tls_failures),
                        std::to_string(h.plaintext_retries), std::to_string(h.suspect_domains),
                        std::to_string(h.would_refuse), h.last_seen.substr(0, 19) + "Z",
                        h.senders.empty() ? "-" : join(h.senders, ","), h.last_error.empty() ? "-" : h.last_error});
    std::string out = table(rows);
    bool lab_header = false;
    for (const auto& h : hosts) {
        if (h.lab_events == 0) continue;
        if (!lab_header) out += "\nlab observations:\n";
        lab_header = true;
        out += "  " + printable(h.client) + ": " + std::to_string(h.lab_events) + " event(s): " +
               printable(join(h.lab_behaviour, ", ")) + "\n";
    }
    return out;
}

std::string downgrades_json(const std::vector<DowngradeHost>& hosts) {
    std::string out = "{\"hosts\":[";
    for (size_t i = 0; i < hosts.size(); ++i) {
        const auto& h = hosts[i];
        if (i) out += ',';
        out += "{\"client\":" + json_quote(h.client) + ",\"helo\":" + json_quote(h.helo) +
               ",\"network\":" + json_quote(h.network) + ",\"tls_failures\":" + std::to_string(h.tls_failures) +
               ",\"plaintext_retries\":" + std::to_string(h.plaintext_retries) +
               ",\"suspect_domains\":" + std::to_string(h.suspect_domains) +
               ",\"would_refuse\":" + std::to_string(h.would_refuse) +
               ",\"lab_events\":" + std::to_string(h.lab_events) + ",\"last_seen\":" + json_quote(h.last_seen) +
               ",\"last_error\":" + json_quote(h.last_error) + ",\"senders\":" + json_list(h.senders) +
               ",\"queue_ids\":" + json_list(h.queue_ids) + ",\"offered_versions\":" + json_list(h.offered_versions) +
               ",\"lab_behaviour\":" + json_list(h.lab_behaviour) + "}";
    }
    return out + "]}\n";
}

}  // namespace mxgate::report
