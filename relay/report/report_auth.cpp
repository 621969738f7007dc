// relay/report/report_auth.cpp — `mxgate report auth`: logins per user and
// client network, lockouts and cleartext exposures (SPEC §5 events).
#include "relay/report/report.hpp"
#include "tlspolicy/inbound.hpp"

namespace mxgate::report {
namespace {

const std::string& field(const JournalRecord& r, const char* name) {
    static const std::string kEmpty;
    const auto it = r.find(name);
    return it == r.end() ? kEmpty : it->second;
}

}  // namespace

AuthSummary auth_summary(const std::vector<JournalRecord>& events) {
    AuthSummary s;
    std::map<std::pair<std::string, std::string>, AuthLine> lines;
    for (const JournalRecord& r : events) {
        const std::string& name = field(r, "event");
        if (name.rfind("auth.", 0) != 0) continue;
        const std::string& user = field(r, "user");
        const std::string& client = field(r, "client");
        std::string network = field(r, "network");
        if (network.empty()) network = tlspolicy::client_network(client);
        if (name == "auth.locked") {
            ++s.lockouts[!user.empty() ? user : client];
            continue;
        }
        if (name == "auth.cleartext_exposure") {
            s.cleartext.push_back({field(r, "ts"), user, client, field(r, "valid")});
            continue;
        }
        AuthLine& l = lines[{user, network}];
        l.user = user;
        l.network = network;
        l.last_seen = std::max(l.last_seen, field(r, "ts"));
        if (name == "auth.success") ++l.successes;
        else if (name == "auth.failure") ++l.failures;
        else if (name == "auth.network_denied") ++l.denied;
        else if (name == "auth.new_network") l.new_network = true;
    }
    for (auto& [k, l] : lines) s.lines.push_back(std::move(l));
    return s;
}

std::string auth_text(const AuthSummary& s) {
    std::string out;
    if (s.lines.empty()) {
        out += "no logins recorded\n";
    } else {
        std::vector<std::vector<std::string>> rows{
            {"USER", "NETWORK", "LOGINS", "FAILURES", "DENIED", "NEW NETWORK", "LAST SEEN"}};
        for (const auto& l : s.lines)
            rows.push_back({l.user.empty() ? "-" : l.user, l.network.empty() ? "-" : l.network,
                            std::to_string(l.successes), std::to_string(l.failures), std::to_string(l.denied),
                            l.new_network ? "yes" : "no", l.last_seen.substr(0, 19) + "Z"});
        out += table(rows);
    }
    out += "\nlockouts: ";
    if (s.lockouts.empty()) out += "none";
    bool first = true;
    for (const auto& [who, n] : s.lockouts) {
        out += (first ? "" : ", ") + printable(who) + " (" + std::to_string(n) + ")";
        first = false;
    }
    out += "\ncleartext exposures: " + std::to_string(s.cleartext.size()) + "\n";
    if (!s.cleartext.empty()) {
        std::vector<std::vector<std::string>> rows{{"  WHEN", "USER", "CLIENT", "PASSWORD VALID"}};
        for (const auto& c : s.cleartext)
            rows.push_back({"  " + c.ts.substr(0, 19) + "Z", c.user.empty() ? "-" : c.user, c.client,
                            c.valid.empty() ? "unknown" : c.valid});
        out += table(rows);
    }
    return out;
}

std::string auth_json(const AuthSummary& s) {
    std::string out = "{\"logins\":[";
    for (size_t i = 0; i < s.lines.size(); ++i) {
        const auto& l = s.lines[i];
        if (i) out += ',';
        out += "{\"user\":" + json_quote(l.user) + ",\"network\":" + json_quote(l.network) +
               ",\"successes\":" + std::to_string(l.successes) + ",\"failures\":" + std::to_string(l.failures) +
               ",\"denied\":" + std::to_string(l.denied) + ",\"new_network\":" + (l.new_network ? "true" : "false") +
               ",\"last_seen\":" + json_quote(l.last_seen) + "}";
    }
    out += "],\"lockouts\":{";
    bool first = true;
    for (const auto& [who, n] : s.lockouts) {
        out += (first ? "" : ",") + json_quote(who) + ":" + std::to_string(n);
        first = false;
    }
    out += "},\"cleartext_exposures\":[";
    for (size_t i = 0; i < s.cleartext.size(); ++i) {
        const auto& c = s.cleartext[i];
        if (i) out += ',';
        out += "{\"ts\":" + json_quote(c.ts) + ",\"user\":" + json_quote(c.user) + ",\"client\":" + json_quote(c.client) +
               ",\"valid\":" + (c.valid.empty() ? std::string("null") : c.valid == "true" ? "true" : "false") + "}";
    }
    return out + "]}\n";
}

}  // namespace mxgate::report
