// tests/fuzz/envelope_fuzz.cpp — libFuzzer target for the spool's on-disk
// records (relay/spool/record.hpp): decode_envelope, decode_state and the
// message trailer on arbitrary bytes.
//
// Properties checked (abort = finding):
//  - no decoder reads out of bounds or crashes (ASan/UBSan);
//  - the encoding is canonical: whenever a decoder accepts x,
//    encode(decode(x)) == x byte for byte, so a re-encode round trip is
//    stable and no two byte strings mean the same record;
//  - an accepted trailer's offsets fit the claimed file size;
//  - make_dsn() (relay/spool/dsn.hpp) with the input as remote reply,
//    remote host and recipient: CRLF-only lines of at most 998 octets,
//    exactly one of each per-recipient field and four boundary lines —
//    remote text cannot add a field or a MIME part.
// Seeds: tests/fuzz/corpus/envelope/ (real encodings, see docs/fuzzing.md).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "relay/spool/dsn.hpp"
#include "relay/spool/spool.hpp"
#include "relay/spool/trailer.hpp"

using namespace mxgate::spool;

namespace {

size_t count(std::string_view hay, std::string_view needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}

void check_dsn(std::string_view in) {
    // Three pieces separated by the first two NUL bytes.
    size_t a = in.find('\0');
    size_t b = a == std::string_view::npos ? a : in.find('\0', a + 1);
    Envelope env;
    env.id = "018BCFE1D0A8C3F2A9B1";
    env.sender = "alice@example.net";
    env.arrival = 1700000000;
    env.smtputf8 = !in.empty() && (in[0] & 1);
    env.ret = !in.empty() && (in[0] & 2) ? "FULL" : "HDRS";
    DsnRecipient r;
    r.reply = std::string(in.substr(0, a));
    if (a != std::string_view::npos) r.remote_mta = std::string(in.substr(a + 1, b == std::string_view::npos ? b : b - a - 1));
    r.address = b == std::string_view::npos ? "bob@example.org" : std::string(in.substr(b + 1));
    DsnRequest req;
    req.kind = !in.empty() && (in[0] & 4) ? DsnKind::delay : DsnKind::failure;
    req.reporting_mta = "mx.example.org";
    req.now = 1700086400;
    req.retry_until = 1700432000;
    req.recipients = {r};
    req.original = "Subject: x\r\nFrom: alice@example.net\r\n\r\nbody\r\n";
    Dsn d = make_dsn(env, req);
    const std::string& m = d.message;
    size_t line = 0;
    for (size_t i = 0; i < m.size(); ++i) {
        if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r')) std::abort();
        if (m[i] == '\r' && (i + 1 >= m.size() || m[i + 1] != '\n')) std::abort();
        if (m[i] == '\n') line = 0;
        else if (++line > 999) std::abort();  // 998 + the CR
    }
    size_t bpos = m.find("boundary=\"");
    if (bpos == std::string::npos) std::abort();
    std::string delim = "\r\n--" + m.substr(bpos + 10, m.find('"', bpos + 10) - bpos - 10);
    if (count(m, delim) != 4) std::abort();  // 3 parts + the close delimiter
    // Top-level header section: one Auto-Submitted.
    std::string_view head = std::string_view(m).substr(0, m.find("\r\n\r\n") + 2);
    if (count(head, "\r\nAuto-Submitted: ") != 1) std::abort();
    // Split at the delimiters (exactly four, checked above); the second
    // part is the delivery-status one. Part 1 is free text where wrapped
    // remote words may start lines, so only part 2's fields are counted.
    size_t d1 = m.find(delim), d2 = m.find(delim, d1 + 1), d3 = m.find(delim, d2 + 1);
    std::string_view part2 = std::string_view(m).substr(d2, d3 - d2);
    size_t body = part2.find("\r\n\r\n");
    if (d1 == std::string::npos || body == std::string_view::npos) std::abort();
    std::string_view ph = part2.substr(0, body);
    if (count(ph, "\r\nContent-Type: message/delivery-status") + count(ph, "\r\nContent-Type: message/global-delivery-status") != 1)
        std::abort();
    std::string_view status = part2.substr(body + 2);
    for (std::string_view f : {"\r\nFinal-Recipient: ", "\r\nAction: ", "\r\nStatus: ", "\r\nReporting-MTA: "})
        if (count(status, f) != 1) std::abort();
}

// Byte 4 (after the "MXEV" magic) is the record version.
bool is_current_envelope(std::string_view rec) {
    const std::string probe = encode_envelope(Envelope{});
    return rec.size() > 4 && rec[4] == probe[4];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);

    if (auto env = decode_envelope(in)) {
        std::string again = encode_envelope(*env);
        // Canonical within the current version; an older (version 1) record
        // re-encodes as the current version, which must decode to the same.
        if (is_current_envelope(in) && again != in) std::abort();
        auto twice = decode_envelope(again);
        if (!twice || encode_envelope(*twice) != again) std::abort();
    }

    if (auto st = decode_state(in)) {
        if (st->rcpt_state.size() != st->rcpt_reply.size()) std::abort();
        std::string again = encode_state(*st);
        if (again != in) std::abort();
        if (!decode_state(again)) std::abort();
    }

    // The input as a whole message file: trailer last, envelope before it.
    if (size >= kTrailerSize) {
        if (auto t = decode_trailer(in.substr(size - kTrailerSize), size)) {
            if (t->env_offset > size || t->env_length > size - kTrailerSize - t->env_offset) std::abort();
            std::string_view rec = in.substr(t->env_offset, t->env_length);
            if (envelope_sum_ok(*t, rec)) {
                if (auto env = decode_envelope(rec))
                    if (is_current_envelope(rec) && encode_envelope(*env) != rec) std::abort();
            }
        }
    }
    check_dsn(in);
    return 0;
}
