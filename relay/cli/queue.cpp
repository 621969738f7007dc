// `mxgate queue list|show ID|flush [ID]|delete ID|bounce ID|release ID`.
//
// list and show read the spool directly. flush, delete, bounce and release
// go through the running daemon's control socket, so they never race a
// delivery in flight; with no daemon running they act on the spool files
// (flush then means: due at the next start).
#include <chrono>
#include <cstdio>
#include <iostream>

#include "relay/cli/commands.hpp"
#include "relay/cli/format.hpp"
#include "relay/server/control.hpp"
#include "relay/spool/spool.hpp"

namespace mxgate::cli {

namespace {

constexpr const char* kQueueUsage =
    "usage: mxgate queue list [--json] [-c FILE]\n"
    "       mxgate queue show ID [-c FILE]\n"
    "       mxgate queue flush [ID] [-c FILE]\n"
    "       mxgate queue delete ID [-c FILE]\n"
    "       mxgate queue bounce ID [-c FILE]\n"
    "       mxgate queue release ID [-c FILE]\n";

int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* state_name(spool::RcptState s) {
    switch (s) {
        case spool::RcptState::delivered: return "delivered";
        case spool::RcptState::failed: return "failed";
        default: return "pending";
    }
}

int list(spool::Spool& sp, bool json) {
    std::vector<spool::QueuedMessage> msgs;
    for (bool held : {false, true})
        for (const auto& id : sp.list(held))
            if (auto m = sp.load(id)) msgs.push_back(std::move(*m));
    if (json) {
        std::cout << "[";
        for (size_t k = 0; k < msgs.size(); ++k) {
            const auto& m = msgs[k];
            std::cout << (k ? "," : "") << "{\"queue_id\":" << json_string(m.envelope.id)
                      << ",\"held\":" << (m.held ? "true" : "false") << ",\"size\":" << m.envelope.size
                      << ",\"arrival\":" << m.envelope.arrival << ",\"sender\":" << json_string(m.envelope.sender)
                      << ",\"attempts\":" << m.state.attempts << ",\"next_attempt\":" << m.state.next_attempt
                      << ",\"last_error\":" << json_string(m.state.last_error) << ",\"recipients\":[";
            for (size_t i = 0; i < m.envelope.recipients.size(); ++i) {
                const auto st = i < m.state.rcpt_state.size() ? m.state.rcpt_state[i] : spool::RcptState::pending;
                std::cout << (i ? "," : "") << "{\"address\":" << json_string(m.envelope.recipients[i].address)
                          << ",\"state\":\"" << state_name(st) << "\"}";
            }
            std::cout << "]}";
        }
        std::cout << "]\n";
        return 0;
    }
    if (msgs.empty()) {
        std::cout << "queue is empty\n";
        return 0;
    }
    const int64_t now = now_s();
    std::printf("%-18s %9s %8s %-6s %4s  %s\n", "ID", "SIZE", "AGE", "STATE", "TRY", "SENDER -> PENDING RECIPIENTS");
    for (const auto& m : msgs) {
        std::string rcpts;
        for (size_t i = 0; i < m.envelope.recipients.size(); ++i) {
            const auto st = i < m.state.rcpt_state.size() ? m.state.rcpt_state[i] : spool::RcptState::pending;
            if (st != spool::RcptState::pending) continue;
            rcpts += (rcpts.empty() ? "" : ", ") + m.envelope.recipients[i].address;
        }
        std::printf("%-18s %9llu %8s %-6s %4d  <%s> -> %s\n", m.envelope.id.c_str(),
                    static_cast<unsigned long long>(m.envelope.size), format_age(now - m.envelope.arrival).c_str(),
                    m.held ? "held" : "queued", m.state.attempts, m.envelope.sender.c_str(), rcpts.c_str());
        if (!m.state.last_error.empty()) std::printf("%-18s last error: %s\n", "", m.state.last_error.c_str());
    }
    std::printf("-- %zu message%s\n", msgs.size(), msgs.size() == 1 ? "" : "s");
    return 0;
}

int show(spool::Spool& sp, const std::string& id) {
    auto m = sp.load(id);
    if (!m) {
        std::cerr << "mxgate queue show: no message " << id << "\n";
        return 1;
    }
    const auto& e = m->envelope;
    std::cout << "queue_id: " << e.id << (m->held ? " (held)" : "") << "\n"
              << "arrival: " << e.arrival << " (" << format_age(now_s() - e.arrival) << " ago)\n"
              << "sender: <" << e.sender << ">\n"
              << "client: " << e.client_ip << " helo " << e.helo << " via " << e.listener << "\n"
              << "size: " << e.size << "\n"
              << "attempts: " << m->state.attempts << ", next attempt " << m->state.next_attempt << "\n";
    for (size_t i = 0; i < e.recipients.size(); ++i) {
        const auto st = i < m->state.rcpt_state.size() ? m->state.rcpt_state[i] : spool::RcptState::pending;
        std::cout << "recipient: <" << e.recipients[i].address << "> " << state_name(st);
        if (i < m->state.rcpt_reply.size() && !m->state.rcpt_reply[i].empty())
            std::cout << " (" << m->state.rcpt_reply[i] << ")";
        std::cout << "\n";
    }
    std::string body;
    if (sp.read_body(id, body)) {
        std::cout << "\n" << e.prepend;
        const auto end = body.find("\r\n\r\n");
        std::cout << body.substr(0, end == std::string::npos ? body.size() : end + 2);
    }
    return 0;
}

// No daemon: act on the files. A message is only touched here when no
// process delivers it, so there is nothing to race.
int offline(spool::Spool& sp, const std::string& verb, const std::string& id) {
    if (verb == "flush") {
        for (const auto& q : id.empty() ? sp.list(false) : std::vector<std::string>{id}) {
            auto m = sp.load(q);
            if (!m) continue;
            m->state.next_attempt = 0;
            sp.update(q, m->state);
        }
        std::cout << "no daemon running: marked due for the next start\n";
        return 0;
    }
    if (verb == "delete") {
        if (!sp.remove(id)) {
            std::cerr << "mxgate queue delete: no message " << id << "\n";
            return 1;
        }
        std::cout << "deleted " << id << "\n";
        return 0;
    }
    if (verb == "release") {
        if (!sp.release(id)) {
            std::cerr << "mxgate queue release: message " << id << " is not held\n";
            return 1;
        }
        std::cout << "released " << id << "\n";
        return 0;
    }
    std::cerr << "mxgate queue " << verb << ": needs the running daemon (mxgate serve)\n";
    return 1;
}

}  // namespace

int cmd_queue(const std::vector<std::string>& args) {
    auto o = parse_common(args);
    if (!o) return 2;
    if (o->help || o->rest.empty()) {
        std::cout << kQueueUsage;
        return o->help ? 0 : 2;
    }
    const std::string verb = o->rest[0];
    bool json = false;
    std::vector<std::string> pos;
    for (size_t i = 1; i < o->rest.size(); ++i) {
        if (o->rest[i] == "--json") json = true;
        else pos.push_back(o->rest[i]);
    }
    const bool needs_id = verb == "show" || verb == "delete" || verb == "bounce" || verb == "release";
    if ((verb != "list" && verb != "flush" && !needs_id) || (needs_id && pos.size() != 1) ||
        (!needs_id && pos.size() > (verb == "flush" ? 1u : 0u))) {
        std::cerr << kQueueUsage;
        return 2;
    }
    auto cfg = load_or_report(config_path(*o));
    if (!cfg) return 2;
    auto sp = open_spool_for_tool(*cfg, "queue");
    if (!sp) return 1;
    if (verb == "list") return list(*sp, json);
    if (verb == "show") return show(*sp, pos[0]);
    const std::string id = pos.empty() ? "" : pos[0];
    const auto answer = server::control_request(server::control_socket_path(*cfg), verb + (id.empty() ? "" : " " + id));
    if (!answer) return offline(*sp, verb, id);
    if (answer->rfind("ok", 0) == 0) {
        std::cout << answer->substr(answer->size() > 3 ? 3 : answer->size()) << "\n";
        return 0;
    }
    std::cerr << "mxgate queue " << verb << ": " << (answer->size() > 6 ? answer->substr(6) : *answer) << "\n";
    return 1;
}

}  // namespace mxgate::cli
