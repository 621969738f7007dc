// `mxgate status` — each downstream at a glance (SPEC §2): reachable, or
// down since when and why; queued recipients and the oldest message's age.
// Reads the route table the daemon keeps in <spool>/state/routes and walks
// the spool itself, so it works whether or not the daemon runs.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>

#include "relay/cli/commands.hpp"
#include "relay/cli/format.hpp"
#include "relay/queue/downstream_status.hpp"
#include "relay/spool/spool.hpp"

namespace mxgate::cli {

namespace {
struct Backlog {
    int messages = 0;
    int recipients = 0;
    int64_t oldest = 0;  // arrival of the oldest
};
}  // namespace

int cmd_status(const std::vector<std::string>& args) {
    auto o = parse_common(args);
    if (!o) return 2;
    bool json = false;
    for (const auto& a : o->rest) {
        if (a == "--json") json = true;
        else {
            std::cerr << "mxgate status: unexpected argument '" << a << "'\n";
            return 2;
        }
    }
    if (o->help) {
        std::cout << "usage: mxgate status [--json] [-c FILE]\n"
                     "Shows each downstream: reachable or down since when and why, queued\n"
                     "recipients and the age of the oldest queued message.\n";
        return 0;
    }
    auto cfg = load_or_report(config_path(*o));
    if (!cfg) return 2;
    auto sp = open_spool_for_tool(*cfg, "status");
    if (!sp) return 1;
    const auto routes = queue::DownstreamStatus::read(cfg->spool + "/state/routes");
    std::map<std::string, Backlog> backlog;  // owner domain, or "other"
    for (const auto& id : sp->list(false)) {
        auto m = sp->load(id);
        if (!m) continue;
        std::map<std::string, bool> seen;
        for (size_t i = 0; i < m->envelope.recipients.size(); ++i) {
            if (i < m->state.rcpt_state.size() && m->state.rcpt_state[i] != spool::RcptState::pending) continue;
            const auto& a = m->envelope.recipients[i].address;
            std::string dom = a.substr(a.rfind('@') + 1);
            for (char& c : dom) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const std::string key = cfg->find_domain(dom) ? cfg->find_domain(dom)->name : "(internet)";
            Backlog& b = backlog[key];
            ++b.recipients;
            if (!seen[key]) {
                seen[key] = true;
                ++b.messages;
                if (b.oldest == 0 || m->envelope.arrival < b.oldest) b.oldest = m->envelope.arrival;
            }
        }
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    const size_t held = sp->list(true).size();
    if (json) std::cout << "{\"downstreams\":[";
    else std::printf("%-24s %-28s %-8s %-6s %s\n", "DOMAIN", "DOWNSTREAM", "STATE", "QUEUED", "OLDEST / LAST ERROR");
    bool first = true;
    for (const auto& d : cfg->domains) {
        const auto it = routes.find("downstream:" + d.name);
        const Backlog b = backlog.count(d.name) ? backlog[d.name] : Backlog{};
        std::string state = "unknown";  // never attempted
        std::string detail;
        if (it != routes.end()) {
            state = it->second.reachable ? "up" : "down";
            if (!it->second.reachable)
                detail = "since " + format_time(it->second.down_since) + " (" +
                         format_age(now - it->second.down_since) + "): " + it->second.last_error;
        }
        if (json) {
            std::cout << (first ? "" : ",") << "{\"domain\":" << json_string(d.name)
                      << ",\"downstream\":" << json_string(d.downstream.address.text()) << ",\"state\":\"" << state
                      << "\",\"down_since\":" << (it != routes.end() ? it->second.down_since : 0)
                      << ",\"last_error\":" << json_string(it != routes.end() ? it->second.last_error : "")
                      << ",\"queued_messages\":" << b.messages << ",\"queued_recipients\":" << b.recipients
                      << ",\"oldest_age\":" << (b.oldest ? now - b.oldest : 0) << "}";
        } else {
            std::string q = std::to_string(b.messages);
            std::string oldest = b.oldest ? "oldest " + format_age(now - b.oldest) : "-";
            std::printf("%-24s %-28s %-8s %-6s %s\n", d.name.c_str(),
                        ((d.downstream.lmtp ? "lmtp://" : "") + d.downstream.address.text()).c_str(), state.c_str(),
                        q.c_str(), oldest.c_str());
            if (!detail.empty()) std::printf("%-24s %s\n", "", detail.c_str());
        }
        first = false;
    }
    if (json) {
        std::cout << "],\"held\":" << held << "}\n";
    } else {
        if (backlog.count("(internet)"))
            std::printf("%-24s %-28s %-8s %-6d oldest %s\n", "(internet)", "MX delivery", "-",
                        backlog["(internet)"].messages, format_age(now - backlog["(internet)"].oldest).c_str());
        if (held) std::printf("held: %zu message%s (mxgate queue list)\n", held, held == 1 ? "" : "s");
    }
    return 0;
}

}  // namespace mxgate::cli
