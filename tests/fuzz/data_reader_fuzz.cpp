// tests/fuzz/data_reader_fuzz.cpp — libFuzzer target for the server's
// message reader (DATA and BDAT modes).
//
// Input: 4 control octets (mode, line_length, max_size, split seed) then
// the stream. Checked properties (abort on violation):
//  - whole, byte-by-byte and pseudo-random split feeding give identical
//    output, report, consumed count and done flag;
//  - DATA mode ends exactly after the first CRLF "." CRLF of the stream
//    (the DATA command's CRLF counting as the first CRLF) and nowhere
//    else; consumed == input size when not done;
//  - output equals an independent naive unstuffing (DATA) or the input
//    (BDAT), truncated at max_size; report.size counts the full message;
//  - bare CR, bare LF, NUL and over-long lines are flagged exactly when a
//    naive scan of the consumed wire bytes finds them;
//  - data_verdict() rejects every report that is not ok().
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "relay/smtp/data_reader.hpp"
#include "relay/smtp/replies.hpp"

using namespace mxgate::smtp;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

struct Outcome {
    std::string out;
    DataReport report;
    size_t consumed = 0;
    bool done = false;
    bool operator==(const Outcome&) const = default;
};

struct ReaderParams {
    DataReader::Mode mode;
    size_t line_length;
    uint64_t max_size;
};

// step: 0 = whole, 1 = byte by byte; otherwise split points from an LCG.
Outcome run(const ReaderParams& p, std::string_view in, size_t step, uint32_t seed) {
    DataReader dr(p.mode, p.line_length, p.max_size);
    Outcome o;
    size_t pos = 0;
    uint32_t rng = seed * 2654435761u + 1;
    while (pos < in.size() && !o.done) {
        size_t n = in.size() - pos;
        if (step == 1) n = 1;
        if (step > 1) {
            rng = rng * 1664525u + 1013904223u;
            n = std::min<size_t>(n, 1 + (rng >> 16) % step);
        }
        const FeedResult f = dr.feed(in.substr(pos, n), o.out);
        check(f.consumed <= n);
        check(f.done || f.consumed == n);
        o.consumed += f.consumed;
        o.done = f.done;
        pos += n;
    }
    if (p.mode == DataReader::Mode::bdat) dr.finish();
    o.report = dr.report();
    return o;
}

// Independent reference for the DATA-mode end and unstuffing.
void check_reference(const ReaderParams& p, std::string_view in, const Outcome& o) {
    const bool data_mode = p.mode == DataReader::Mode::data;
    std::string stream = "\r\n";
    stream.append(in);
    size_t consumed = in.size();
    bool done = false;
    if (data_mode) {
        const size_t end = stream.find("\r\n.\r\n");
        if (end != std::string::npos) {
            done = true;
            consumed = end + 5 - 2;
        }
    }
    check(o.done == done);
    check(o.consumed == consumed);

    // Expected message octets.
    std::string expect;
    if (!data_mode) {
        expect.assign(in);
    } else {
        // Content = wire bytes before the end marker's "." CRLF (or all);
        // every CRLF "." loses its dot.
        const std::string_view wire = std::string_view(stream).substr(0, 2 + (done ? consumed - 3 : consumed));
        for (size_t i = 0; i < wire.size(); ++i) {
            if (i >= 2 && wire[i] == '.' && wire[i - 1] == '\n' && wire[i - 2] == '\r') continue;
            expect += wire[i];
        }
        expect.erase(0, 2);
        // A trailing held-back "." or "." CR at a line start is not output yet.
        if (!done) {
            const std::string_view w(wire);
            if (w.size() >= 3 && w.substr(w.size() - 3) == "\r\n.") {
                // the dot was already skipped above
            } else if (w.size() >= 4 && w.substr(w.size() - 4) == "\r\n.\r") {
                expect.pop_back();  // the CR after a held dot is held too
            }
        }
    }
    check(o.report.size == expect.size());
    check(o.report.too_big == (expect.size() > p.max_size));
    if (expect.size() > p.max_size) expect.resize(p.max_size);
    check(o.out == expect);

    // Violations in the consumed wire bytes (the DATA command's CRLF first).
    const std::string_view wire = std::string_view(stream).substr(0, 2 + consumed);
    bool bare_cr = false, bare_lf = false, nul = false, too_long = false;
    size_t line = 0;
    for (size_t i = 2; i < wire.size(); ++i) {
        const char c = wire[i];
        if (c == '\0') nul = true;
        if (c == '\n' && wire[i - 1] != '\r') bare_lf = true;
        if (c == '\r') {
            if (i + 1 < wire.size()) {
                if (wire[i + 1] != '\n') bare_cr = true;
            } else if (!data_mode) {
                bare_cr = true;  // BDAT finish(): a final lone CR
            }
        }
        ++line;
        if (line > p.line_length) too_long = true;
        if (c == '\n' && wire[i - 1] == '\r') line = 0;
    }
    check(o.report.bare_cr == bare_cr);
    check(o.report.bare_lf == bare_lf);
    check(o.report.nul == nul);
    check(o.report.line_too_long == too_long);
    if (!o.report.ok()) {
        const auto v = replies::data_verdict(o.report);
        check(v.has_value() && v->permanent());
    } else {
        check(!replies::data_verdict(o.report).has_value());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 4) return 0;
    ReaderParams p;
    p.mode = (data[0] & 1) ? DataReader::Mode::bdat : DataReader::Mode::data;
    p.line_length = (data[1] == 255) ? 1000 : 3 + data[1];
    p.max_size = (data[2] == 255) ? (uint64_t{1} << 40) : uint64_t{data[2]} * 3;
    const uint32_t seed = data[3];
    const std::string_view in(reinterpret_cast<const char*>(data) + 4, size - 4);

    const Outcome whole = run(p, in, 0, seed);
    check(run(p, in, 1, seed) == whole);
    check(run(p, in, 7, seed) == whole);
    check(run(p, in, 64, seed + 1) == whole);
    check_reference(p, in, whole);
    return 0;
}
