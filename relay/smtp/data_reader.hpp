// relay/smtp/data_reader.hpp — streaming reader for message content after
// DATA (dot-stuffed, ends at CRLF.CRLF) or BDAT (raw chunks).
//
// Interface: construct with the limits, then call feed() with whatever
// bytes arrived — any split, one byte at a time included; the result does
// not depend on where chunks are split. feed() appends message octets to
// `out` and returns how many input bytes it consumed and whether the end
// of data was seen. In DATA mode it stops consuming right after the
// terminating CRLF "." CRLF, so pipelined commands stay in the caller's
// buffer. In BDAT mode it consumes everything; the session counts chunk
// sizes and calls finish() after the LAST chunk.
//
// Violations are recorded, never acted on: the session must read to the
// real end of data and then answer verdict() (replies.hpp):
//   bare_cr / bare_lf / nul / line_too_long → 550 5.6.0 (SPEC §4)
//   too_big (message octets > max_size)     → 552 5.3.4; output stops
//                                             growing once over the limit
//   received_count > 50 (a mail loop)       → 554 5.4.6
//
// Rules (DATA mode):
//   - Only CRLF "." CRLF ends the data (RFC 5321 §4.1.1.4). A line start is
//     the start of data or just after CRLF; a bare LF or bare CR never
//     starts a line, so "\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r" ... are
//     ordinary (flagged) content, never the end (SMTP smuggling).
//   - Dot-unstuffing (§4.5.2): a line starting with "." loses that dot.
//   - Line length (§4.5.3.1.6): octets on the wire including CRLF, the
//     stuffing dot included, compared with line_length.
//   - The header section runs to the first empty line; its "Received:"
//     fields (name compared case-insensitively, RFC 5322 §2.2) are counted.
//
// SECURITY: the input is raw peer bytes of unbounded total size. State is a
// few integers plus a 16-byte field-name prefix; output growth is capped
// at max_size (+ the current byte); no read goes past the input view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mxgate::smtp {

inline constexpr int kMaxReceivedHeaders = 50;  // SPEC §4: more is a loop → 554 5.4.6

struct DataReport {
    bool bare_cr = false;
    bool bare_lf = false;
    bool nul = false;
    bool line_too_long = false;
    bool too_big = false;
    int received_count = 0;          // "Received:" fields in the header section
    bool eight_bit_headers = false;  // octets >= 0x80 in the header section
    bool eight_bit_body = false;     // octets >= 0x80 after the header section
    uint64_t size = 0;               // message octets (after unstuffing), even past max_size

    bool malformed() const { return bare_cr || bare_lf || nul || line_too_long; }
    bool loop() const { return received_count > kMaxReceivedHeaders; }
    bool ok() const { return !malformed() && !too_big && !loop(); }
    bool operator==(const DataReport&) const = default;
};

struct FeedResult {
    size_t consumed = 0;  // input bytes used; in DATA mode < input.size() only when done
    bool done = false;    // DATA mode: CRLF.CRLF seen (and consumed)
};

class DataReader {
public:
    enum class Mode { data, bdat };

    // line_length: max text line octets incl. CRLF (Limits::line_length);
    // max_size: max message octets (Limits::message_size or a smaller SIZE).
    DataReader(Mode mode, size_t line_length, uint64_t max_size);

    FeedResult feed(std::string_view input, std::string& out);

    // BDAT mode, after the LAST chunk: a CR left pending at the very end is
    // a bare CR. (DATA mode ends by itself; finish() is then a no-op.)
    void finish();

    bool done() const { return state_ == State::done; }
    const DataReport& report() const { return report_; }

private:
    enum class State {
        line_start,   // after CRLF or at the beginning
        dot,          // DATA: "." at line start, held back
        dot_cr,       // DATA: "." CR at line start, held back
        in_line,      // inside a line
        cr,           // a CR inside a line, LF not yet seen
        done,
    };

    void emit(char c, std::string& out);
    void text_byte(char c, std::string& out);  // one octet in state in_line/cr/line_start (not '.')
    void end_line();                           // after CRLF
    void count_wire(size_t n);

    Mode mode_;
    size_t line_length_;
    uint64_t max_size_;
    State state_ = State::line_start;
    DataReport report_;

    size_t line_octets_ = 0;  // wire octets of the current line so far
    bool in_headers_ = true;
    size_t line_content_ = 0;  // message octets of the current line (excluding CRLF)
    char head_[16] = {};       // first octets of the current header line
    size_t head_len_ = 0;
};

}  // namespace mxgate::smtp
