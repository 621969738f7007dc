// relay/spool/envelope_codec.cpp — encode_envelope / decode_envelope.
//
// Record "MXEV", version 3 (record.hpp for the field format), fields in
// this order:
//   i id · s sender · a arrival(i64) · c client_ip · h helo · u auth_user
//   · l listener · f flags(u8: bit0 smtputf8, bit1 body_8bit, bit2
//     requiretls, bit3 tls_optional; bits 2-3 version 3 only) · r ret
//   · e envid · p prepend · z size(i64, >= 0) · n recipient count(u32)
//   · per recipient: R address · O orcpt · S state(u8, 0..2) · L last_reply
//     · N notify(u8, RFC 3461 bits; version 2 only)
//   · E end
// Version 1 (no N) is still read: files written before NOTIFY was stored.
// Version 2 is version 3 without the RFC 8689 flag bits (same fields), so
// files queued before REQUIRETLS existed are read unchanged; a version 1
// or 2 record with bit 2 or 3 set is corrupt.
// Single-line fields (everything but prepend and last_reply) must not hold
// CR, LF or NUL: they end up in SMTP commands (MAIL FROM, RCPT TO ORCPT=)
// and header lines, and a decoder that accepted them would turn a damaged
// or forged file into command injection downstream.
//
// SECURITY: input is untrusted disk bytes; fuzzed by
// tests/fuzz/envelope_fuzz.cpp.
#include "relay/spool/record.hpp"
#include "relay/spool/spool.hpp"

namespace mxgate::spool {

namespace {

constexpr std::string_view kMagic = "MXEV";
constexpr uint8_t kVersion = 3;
constexpr uint8_t kFlagSmtputf8 = 1;
constexpr uint8_t kFlag8bit = 2;
constexpr uint8_t kFlagRequireTls = 4;    // version 3
constexpr uint8_t kFlagTlsOptional = 8;   // version 3
// Far above limits.recipients; bounds what a corrupt count may allocate.
constexpr uint32_t kMaxRecipients = 1'000'000;
// Smallest encoded recipient: four fields, one with a 1-byte value.
constexpr size_t kMinRecipientBytes = 4 * record::kFieldOverhead + 1;

}  // namespace

std::string encode_envelope(const Envelope& env) {
    record::Out out(kMagic, kVersion);
    out.str('i', env.id);
    out.str('s', env.sender);
    out.i64('a', env.arrival);
    out.str('c', env.client_ip);
    out.str('h', env.helo);
    out.str('u', env.auth_user);
    out.str('l', env.listener);
    out.u8('f', static_cast<uint8_t>((env.smtputf8 ? kFlagSmtputf8 : 0) | (env.body_8bit ? kFlag8bit : 0) |
                                     (env.requiretls ? kFlagRequireTls : 0) |
                                     (env.tls_optional ? kFlagTlsOptional : 0)));
    out.str('r', env.ret);
    out.str('e', env.envid);
    out.str('p', env.prepend);
    out.i64('z', static_cast<int64_t>(env.size));
    out.u32('n', static_cast<uint32_t>(env.recipients.size()));
    for (const Recipient& r : env.recipients) {
        out.str('R', r.address);
        out.str('O', r.orcpt);
        out.u8('S', static_cast<uint8_t>(r.state));
        out.str('L', r.last_reply);
        out.u8('N', r.notify);
    }
    return out.finish();
}

std::optional<Envelope> decode_envelope(std::string_view data) {
    record::In in(data);
    Envelope env;
    uint8_t flags = 0;
    int64_t size = 0;
    uint32_t count = 0;
    const uint8_t version = in.version(kMagic, 1, kVersion);
    in.str('i', env.id, true);
    in.str('s', env.sender, true);
    in.i64('a', env.arrival);
    in.str('c', env.client_ip, true);
    in.str('h', env.helo, true);
    in.str('u', env.auth_user, true);
    in.str('l', env.listener, true);
    in.u8('f', flags);
    in.str('r', env.ret, true);
    in.str('e', env.envid, true);
    in.str('p', env.prepend, false);
    in.i64('z', size);
    in.u32('n', count);
    if (!in.ok()) return std::nullopt;
    const uint8_t known = kFlagSmtputf8 | kFlag8bit | (version >= 3 ? (kFlagRequireTls | kFlagTlsOptional) : 0);
    if ((flags & ~known) != 0) return std::nullopt;  // unknown flag bits
    // TLS-Required: No is ignored under REQUIRETLS (RFC 8689 §4.1): never both.
    if ((flags & kFlagRequireTls) && (flags & kFlagTlsOptional)) return std::nullopt;
    if (size < 0) return std::nullopt;
    // A count that cannot fit in what remains is corrupt; checking before
    // reserve() keeps a forged count from allocating gigabytes.
    if (count > kMaxRecipients || count > in.remaining() / kMinRecipientBytes) return std::nullopt;
    env.smtputf8 = (flags & kFlagSmtputf8) != 0;
    env.body_8bit = (flags & kFlag8bit) != 0;
    env.requiretls = (flags & kFlagRequireTls) != 0;
    env.tls_optional = (flags & kFlagTlsOptional) != 0;
    env.size = static_cast<uint64_t>(size);
    env.recipients.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
        Recipient r;
        uint8_t st = 0;
        in.str('R', r.address, true);
        in.str('O', r.orcpt, true);
        in.u8('S', st);
        in.str('L', r.last_reply, false);
        if (version >= 2) in.u8('N', r.notify);
        if (!in.ok() || st > static_cast<uint8_t>(RcptState::failed)) return std::nullopt;
        if ((r.notify & ~notify::kAll) != 0) return std::nullopt;
        // NEVER excludes every other keyword (RFC 3461 §4.1).
        if ((r.notify & notify::never) && r.notify != notify::never) return std::nullopt;
        r.state = static_cast<RcptState>(st);
        env.recipients.push_back(std::move(r));
    }
    if (!in.end()) return std::nullopt;
    return env;
}

}  // namespace mxgate::spool
