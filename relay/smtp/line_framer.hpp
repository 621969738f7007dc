// relay/smtp/line_framer.hpp — splits the command stream into CRLF lines.
//
// Interface: a LineFramer looks at the bytes the session has buffered but
// not yet consumed and says what comes next:
//
//   need_more  no complete line yet; read more (drop `consumed` first: it is
//              non-zero while junk of an earlier bad line is being skipped)
//   line       `line` (a view into the input, without CRLF) is a command
//   too_long   the line exceeds max_line octets including CRLF → 500 5.5.2
//   bare_lf    an LF not preceded by CR                      → 500 5.5.2
//   bare_cr    a CR not followed by LF                       → 500 5.5.2
//   nul        a NUL octet                                   → 500 5.5.2
//
// The caller always removes `consumed` bytes from the front of its buffer,
// after using `line` (it points into the input). After any error status the
// framer is in resync mode: it discards everything up to and including the
// next CRLF, so the rest of a poisoned line is never executed as a command
// (a bare LF never splits a line: "NOOP\nQUIT\r\n" is one bad line, not
// NOOP then QUIT). The error is reported once per bad line.
//
// SECURITY: the input is raw peer bytes. Only CRLF ends a line (RFC 5321
// §2.3.8, §4.1.1; no SMTP smuggling through lenient line endings); the
// framer never reads past input.size(), and never buffers: its only state
// is the resync flag, so memory use is bounded by the caller's read limit.
// A lone CR at the very end of the input is need_more (its LF may follow).
//
// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including CRLF.
#pragma once

#include <cstddef>
#include <string_view>

namespace mxgate::smtp {

inline constexpr size_t kMaxCommandLine = 512;  // RFC 5321 §4.5.3.1.4, incl. CRLF
// RFC 4954 §4: an AUTH command with its initial response, and each SASL
// response line, may be up to 12288 octets; the session frames at this size
// and holds every other command to kMaxCommandLine itself.
inline constexpr size_t kMaxAuthLine = 12288;

enum class FrameStatus { need_more, line, too_long, bare_lf, bare_cr, nul };

struct Frame {
    FrameStatus status = FrameStatus::need_more;
    size_t consumed = 0;     // bytes to drop from the front of the input (<= input.size())
    std::string_view line;   // status == line: the command, without CRLF; points into input
    bool is_error() const {
        return status != FrameStatus::need_more && status != FrameStatus::line;
    }
};

class LineFramer {
public:
    explicit LineFramer(size_t max_line = kMaxCommandLine) : max_line_(max_line < 3 ? 3 : max_line) {}

    // Examines `input` (the unconsumed bytes, starting where the previous
    // call's `consumed` ended) and returns the next framing result.
    Frame next(std::string_view input);

    // True while the remainder of a rejected line is being discarded.
    bool resyncing() const { return resync_; }

    // Forget any resync state (e.g. after STARTTLS the buffer is dropped and
    // a fresh stream begins, RFC 3207 §4.2).
    void reset() { resync_ = false; }

private:
    size_t max_line_;
    bool resync_ = false;
};

}  // namespace mxgate::smtp
