// relay/smtp/line_framer.cpp — CRLF-only command line framing (see
// line_framer.hpp for the contract).
#include "relay/smtp/line_framer.hpp"

namespace mxgate::smtp {

Frame LineFramer::next(std::string_view in) {
    size_t start = 0;

    if (resync_) {
        // Discard up to and including the next CRLF. A CR at the very end may
        // be the first half of CRLF: keep it for the next call.
        size_t i = 0;
        for (; i < in.size(); ++i) {
            if (in[i] != '\r') continue;
            if (i + 1 == in.size()) return Frame{FrameStatus::need_more, i, {}};
            if (in[i + 1] == '\n') break;
        }
        if (i >= in.size()) return Frame{FrameStatus::need_more, in.size(), {}};
        resync_ = false;
        start = i + 2;
    }

    // A line may hold at most max_line - 2 octets before its CRLF.
    const size_t max_text = max_line_ - 2;
    for (size_t i = start; i < in.size(); ++i) {
        const char c = in[i];
        const size_t len = i - start;  // octets before this one on the line
        if (c == '\r') {
            if (i + 1 == in.size()) return Frame{FrameStatus::need_more, start, {}};
            if (in[i + 1] == '\n') return Frame{FrameStatus::line, i + 2, in.substr(start, len)};
            resync_ = true;  // the CR itself is dropped; skip to the next CRLF
            return Frame{FrameStatus::bare_cr, i + 1, {}};
        }
        if (c == '\n') {
            resync_ = true;
            return Frame{FrameStatus::bare_lf, i + 1, {}};
        }
        if (c == '\0') {
            resync_ = true;
            return Frame{FrameStatus::nul, i + 1, {}};
        }
        if (len >= max_text) {  // this octet would make the text max_text + 1 long
            resync_ = true;
            return Frame{FrameStatus::too_long, i + 1, {}};
        }
    }
    return Frame{FrameStatus::need_more, start, {}};
}

}  // namespace mxgate::smtp
