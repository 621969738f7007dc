// tests/fuzz/smtp_reply_fuzz.cpp — libFuzzer target for the SMTP client's
// pure parsers: server replies fed incrementally in arbitrary splits, EHLO
// capability parsing of every complete reply, and dot-stuffing of the same
// bytes as message data.
//
// Checked properties (abort on violation):
//  - feeding the same bytes whole or in small pieces gives the same replies;
//  - a reply never has more than max_lines lines or a line over max_line;
//  - reply text holds only printable ASCII;
//  - dot-stuffed output ends with CRLF "." CRLF and holds no other line
//    that is a lone "." (no end-of-data smuggling through the client).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "relay/client/ehlo_capabilities.hpp"
#include "relay/client/reply_parser.hpp"
#include "relay/client/smtp_text.hpp"

using namespace mxgate::client;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

// Parses all replies in data, giving the parser at most `step` new bytes at
// a time (as a socket would). Returns the formatted replies and the error.
std::vector<std::string> run(std::string_view data, size_t step, const ReplyLimits& lim,
                             std::string& error) {
    std::vector<std::string> out;
    ReplyParser p(lim);
    std::string buf;
    size_t fed = 0;
    while (true) {
        size_t used = 0;
        const ReplyStatus st = p.feed(buf, used);
        check(used <= buf.size());
        buf.erase(0, used);
        if (st == ReplyStatus::error) {
            error = p.error();
            check(!error.empty());
            return out;
        }
        if (st == ReplyStatus::complete) {
            const auto r = p.take();
            check(r.code >= 200 && r.code <= 599);
            check(!r.lines.empty() && r.lines.size() <= lim.max_lines);
            for (const auto& l : r.lines) {
                check(l.size() <= lim.max_line);
                for (char c : l) check(c >= 0x20 && c <= 0x7e);
            }
            const auto caps = parse_ehlo(r);
            check(caps.auth.size() <= 32);
            out.push_back(r.format());
            continue;
        }
        if (fed == data.size()) return out;
        const size_t n = std::min(step, data.size() - fed);
        buf.append(data.substr(fed, n));
        fed += n;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t step = 1 + data[0] % 7;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    const ReplyLimits lim{64, 8};   // small limits so the fuzzer reaches them

    std::string e1, e2;
    const auto whole = run(in, in.size() + 1, lim, e1);
    const auto split = run(in, step, lim, e2);
    // Incremental parsing must not depend on how the bytes arrive.
    check(whole == split && e1 == e2);

    // Dot-stuffing: the only lone "." line is the final one.
    const std::string stuffed = dot_stuff({}, in);
    check(stuffed.size() >= 3 && stuffed.compare(stuffed.size() - 3, 3, ".\r\n") == 0);
    if (in.empty()) {
        check(stuffed == ".\r\n");
        return 0;
    }
    check(stuffed.size() >= 5 && stuffed.compare(stuffed.size() - 5, 5, "\r\n.\r\n") == 0);
    const std::string framed = "\n" + stuffed;
    const size_t end = framed.size() - 3;   // index of the final "."
    for (size_t i = 0; i + 1 < end; ++i)
        if (framed[i] == '\n' && framed[i + 1] == '.') check(framed[i + 2] == '.');
    return 0;
}
