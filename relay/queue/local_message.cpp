#include "relay/queue/local_message.hpp"

#include <chrono>

namespace mxgate::queue {

using core::Event;
using core::Field;

std::optional<std::string> commit_generated(spool::Spool& spool, const GeneratedMessage& msg,
                                            core::EventSink& events, const std::string& what,
                                            const std::string& about) {
    auto failed = [&]() -> std::optional<std::string> {
        Event e("queue.write_failed");
        if (!about.empty()) e.set(Field::queue_id, about);
        events.emit(e.set(Field::reason, what));
        return std::nullopt;
    };
    if (msg.recipients.empty()) return failed();
    auto w = spool.begin();
    if (!w || !w->write(msg.bytes)) return failed();
    spool::Envelope env;
    env.id = w->id();
    env.sender = msg.sender;
    for (const auto& r : msg.recipients) env.recipients.push_back(spool::Recipient{r, "", spool::RcptState::pending, ""});
    env.arrival = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    env.helo = msg.helo;
    env.listener = msg.listener;
    env.body_8bit = msg.body_8bit;
    env.smtputf8 = msg.smtputf8;
    env.requiretls = msg.requiretls;
    env.size = msg.bytes.size();
    if (!w->commit(env)) return failed();
    return env.id;
}

std::optional<std::string> queue_local_message(spool::Spool& spool, const std::string& envelope_sender,
                                               const std::vector<std::string>& recipients,
                                               const std::string& message_bytes, core::EventSink& events) {
    GeneratedMessage m;
    m.sender = envelope_sender;
    m.recipients = recipients;
    m.bytes = message_bytes;
    m.listener = "local";
    for (unsigned char c : message_bytes)
        if (c >= 0x80) {
            m.body_8bit = true;
            break;
        }
    return commit_generated(spool, m, events, "local");
}

}  // namespace mxgate::queue
