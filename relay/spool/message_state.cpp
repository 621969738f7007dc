// relay/spool/message_state.cpp — shared spool rules (message_state.hpp).
#include "relay/spool/message_state.hpp"

namespace mxgate::spool {

DeliveryState fresh_state(const Envelope& env) {
    DeliveryState st;
    for (const Recipient& r : env.recipients) {
        st.rcpt_state.push_back(r.state);
        st.rcpt_reply.push_back(r.last_reply);
    }
    return st;
}

bool attach_state(QueuedMessage& msg, DeliveryState st) {
    auto& rcpts = msg.envelope.recipients;
    if (st.rcpt_state.size() != rcpts.size() || st.rcpt_reply.size() != rcpts.size()) return false;
    for (size_t i = 0; i < rcpts.size(); ++i) {
        rcpts[i].state = st.rcpt_state[i];
        rcpts[i].last_reply = st.rcpt_reply[i];
    }
    msg.state = std::move(st);
    return true;
}

bool storable(const Envelope& env) { return decode_envelope(encode_envelope(env)).has_value(); }

bool storable(const DeliveryState& st, size_t recipients) {
    if (st.rcpt_state.size() != recipients || st.rcpt_reply.size() > recipients) return false;
    return decode_state(encode_state(st)).has_value();
}

}  // namespace mxgate::spool
