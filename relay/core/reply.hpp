// relay/core/reply.hpp — an SMTP reply: basic code, enhanced status code
// (RFC 3463, written "x.y.z"; empty only for the greeting and EHLO/HELO
// replies, RFC 2034) and text. format() renders the wire form, one line or
// multiline with "code-" continuation, each line CRLF-terminated.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mxgate::core {

struct Reply {
    int code = 250;
    std::string enhanced;             // "2.0.0"; empty = none
    std::vector<std::string> lines;   // at least one; no CR/LF inside

    Reply() = default;
    Reply(int c, std::string esc, std::string text) : code(c), enhanced(std::move(esc)), lines{std::move(text)} {}

    bool positive() const { return code >= 200 && code < 400; }
    bool transient() const { return code >= 400 && code < 500; }
    bool permanent() const { return code >= 500; }
    std::string format() const;
};

}  // namespace mxgate::core
