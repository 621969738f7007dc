// relay/spool/state_codec.cpp — encode_state / decode_state.
//
// Record "MXST", version 1 (record.hpp for the field format), fields in
// this order:
//   n recipient count(u32) · per recipient: S state(u8, 0..2) · L reply
//   · a attempts(i64, within int, >= 0) · t next_attempt(i64)
//   · w delay_warned(u8, 0|1) · x last_error · E end
// rcpt_reply is written padded (or cut) to rcpt_state's length, so a
// decoded state always has both vectors the same size. The spool checks
// the count against the envelope's recipients when it loads.
//
// SECURITY: input is untrusted disk bytes; fuzzed by
// tests/fuzz/envelope_fuzz.cpp.
#include <climits>

#include "relay/spool/record.hpp"
#include "relay/spool/spool.hpp"

namespace mxgate::spool {

namespace {

constexpr std::string_view kMagic = "MXST";
constexpr uint8_t kVersion = 1;
constexpr uint32_t kMaxRecipients = 1'000'000;
constexpr size_t kMinRecipientBytes = 2 * record::kFieldOverhead + 1;

}  // namespace

std::string encode_state(const DeliveryState& st) {
    record::Out out(kMagic, kVersion);
    out.u32('n', static_cast<uint32_t>(st.rcpt_state.size()));
    for (size_t i = 0; i < st.rcpt_state.size(); ++i) {
        out.u8('S', static_cast<uint8_t>(st.rcpt_state[i]));
        out.str('L', i < st.rcpt_reply.size() ? std::string_view(st.rcpt_reply[i]) : std::string_view());
    }
    out.i64('a', st.attempts);
    out.i64('t', st.next_attempt);
    out.u8('w', st.delay_warned ? 1 : 0);
    out.str('x', st.last_error);
    return out.finish();
}

std::optional<DeliveryState> decode_state(std::string_view data) {
    record::In in(data);
    DeliveryState st;
    uint32_t count = 0;
    in.header(kMagic, kVersion);
    in.u32('n', count);
    if (!in.ok()) return std::nullopt;
    if (count > kMaxRecipients || count > in.remaining() / kMinRecipientBytes) return std::nullopt;
    st.rcpt_state.reserve(count);
    st.rcpt_reply.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
        uint8_t s = 0;
        std::string reply;
        in.u8('S', s);
        in.str('L', reply, false);
        if (!in.ok() || s > static_cast<uint8_t>(RcptState::failed)) return std::nullopt;
        st.rcpt_state.push_back(static_cast<RcptState>(s));
        st.rcpt_reply.push_back(std::move(reply));
    }
    int64_t attempts = 0;
    uint8_t warned = 0;
    in.i64('a', attempts);
    in.i64('t', st.next_attempt);
    in.u8('w', warned);
    in.str('x', st.last_error, false);
    if (!in.end()) return std::nullopt;
    if (attempts < 0 || attempts > INT_MAX || warned > 1) return std::nullopt;
    st.attempts = static_cast<int>(attempts);
    st.delay_warned = warned == 1;
    return st;
}

}  // namespace mxgate::spool
