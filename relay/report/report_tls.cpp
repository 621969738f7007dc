// relay/report/report_tls.cpp — `mxgate report tls`: TLS in and out. Inbound
// events carry a session id; outbound ones (the delivery client's) name the
// MX host and the queue id instead.
#include "relay/report/report.hpp"

namespace mxgate::report {
namespace {

const std::string& field(const JournalRecord& r, const char* name) {
    static const std::string kEmpty;
    const auto it = r.find(name);
    return it == r.end() ? kEmpty : it->second;
}

std::string json_counts(const std::map<std::string, int>& m) {
    std::string out = "{";
    for (const auto& [k, v] : m) {
        if (out.size() > 1) out += ',';
        out += json_quote(k) + ":" + std::to_string(v);
    }
    return out + "}";
}

std::string direction_json(const TlsDirection& d) {
    return "{\"handshakes\":" + std::to_string(d.handshakes) + ",\"failed\":" + std::to_string(d.failed) +
           ",\"versions\":" + json_counts(d.versions) + ",\"ciphers\":" + json_counts(d.ciphers) +
           ",\"failures\":" + json_counts(d.failures) + "}";
}

void counts_rows(std::vector<std::vector<std::string>>& rows, const char* what, const std::map<std::string, int>& m) {
    for (const auto& [k, v] : m) rows.push_back({what, k.empty() ? "(none)" : k, std::to_string(v)});
}

}  // namespace

TlsSummary tls_summary(const std::vector<JournalRecord>& events) {
    TlsSummary s;
    for (const JournalRecord& r : events) {
        const std::string& name = field(r, "event");
        const bool inbound = !field(r, "session").empty();
        TlsDirection& d = inbound ? s.inbound : s.outbound;
        if (name == "tls.handshake") {
            ++d.handshakes;
            ++d.versions[field(r, "tls_version")];
            ++d.ciphers[field(r, "cipher")];
        } else if (name == "tls.handshake_failed") {
            ++d.failed;
            ++d.failures[field(r, "error")];
        } else if (name == "queue.accepted") {
            if (field(r, "tls").empty() || field(r, "tls") == "none")
                ++s.inbound_messages_plaintext;
            else
                ++s.inbound_messages_tls;
        } else if (name == "tls.downgrade_suspected") {
            ++s.downgrade_suspected;
        } else if (name == "tls.would_refuse") {
            ++s.would_refuse;
        } else if (name == "tls.plaintext_fallback") {
            ++s.fallbacks[field(r, "domain")];
        } else if (name == "tls.destination_downgrade") {
            ++s.destination_downgrades[field(r, "domain")];
        } else if (name == "tls.policy") {
            ++s.policies[field(r, "level") + "/" + field(r, "source")];
        } else if (name == "delivery.success") {
            ++s.deliveries;
        }
    }
    return s;
}

std::string tls_text(const TlsSummary& s) {
    std::string out = "inbound: " + std::to_string(s.inbound.handshakes) + " handshakes, " +
                      std::to_string(s.inbound.failed) + " failed; messages " + std::to_string(s.inbound_messages_tls) +
                      " over TLS, " + std::to_string(s.inbound_messages_plaintext) + " in plaintext; " +
                      std::to_string(s.downgrade_suspected) + " downgrade suspicions, " +
                      std::to_string(s.would_refuse) + " dry-run refusals\n";
    std::vector<std::vector<std::string>> rows{{"", "VALUE", "COUNT"}};
    counts_rows(rows, "version", s.inbound.versions);
    counts_rows(rows, "cipher", s.inbound.ciphers);
    counts_rows(rows, "failure", s.inbound.failures);
    if (rows.size() > 1) out += table(rows);
    out += "\noutbound: " + std::to_string(s.outbound.handshakes) + " handshakes, " +
           std::to_string(s.outbound.failed) + " failed; " + std::to_string(s.deliveries) + " deliveries\n";
    rows = {{"", "VALUE", "COUNT"}};
    counts_rows(rows, "version", s.outbound.versions);
    counts_rows(rows, "cipher", s.outbound.ciphers);
    counts_rows(rows, "failure", s.outbound.failures);
    counts_rows(rows, "fallback", s.fallbacks);
    counts_rows(rows, "downgrade", s.destination_downgrades);
    counts_rows(rows, "policy", s.policies);
    if (rows.size() > 1) out += table(rows);
    return out;
}

std::string tls_json(const TlsSummary& s) {
    return "{\"inbound\":" + direction_json(s.inbound) +
           ",\"inbound_messages\":{\"tls\":" + std::to_string(s.inbound_messages_tls) +
           ",\"plaintext\":" + std::to_string(s.inbound_messages_plaintext) +
           "},\"downgrade_suspected\":" + std::to_string(s.downgrade_suspected) +
           ",\"would_refuse\":" + std::to_string(s.would_refuse) + ",\"outbound\":" + direction_json(s.outbound) +
           ",\"deliveries\":" + std::to_string(s.deliveries) + ",\"plaintext_fallbacks\":" + json_counts(s.fallbacks) +
           ",\"destination_downgrades\":" + json_counts(s.destination_downgrades) +
           ",\"policies\":" + json_counts(s.policies) + "}\n";
}

}  // namespace mxgate::report
