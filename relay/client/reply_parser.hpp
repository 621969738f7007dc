// relay/client/reply_parser.hpp — incremental parser for SMTP/LMTP server
// replies (the client side of RFC 5321 §4.2).
//
// Interface: ReplyParser::feed(buffer) looks at the bytes the stream has
// buffered, consumes complete lines and says whether a whole reply (one or
// more "NNN-" lines ending with a "NNN " line) is ready. take() hands the
// reply out as a core::Reply and readies the parser for the next one.
// parse_reply() parses one complete reply from a string, for tests.
//
// Rules (each one a protocol error when broken; the caller then treats the
// connection as failed, a transient delivery failure):
//   - every line starts with a three-digit code, first digit 2..5
//     (RFC 5321 §4.2: 1yz is not used in SMTP), followed by '-' (more
//     lines follow), ' ' or the end of the line (the last line);
//   - every line of one reply carries the same code (RFC 5321 §4.2.1);
//   - a line is at most max_line octets without its terminator (default
//     2048: RFC 5321 §4.5.3.1.5 says 512, Postfix allows line_length_limit
//     2048 — home servers put long text in replies), a reply at most
//     max_lines lines (default 256);
//   - line terminator: CRLF, and — as Postfix's smtp client does
//     (smtp_stream.c: "we tolerate bare LF") — a bare LF. A reply is the
//     server's own statement about itself; accepting its sloppy line ends
//     cannot smuggle anything past us, while refusing them would make mail
//     undeliverable to broken home servers. A CR not followed by LF is
//     part of the text and gets sanitised like any control character.
//
// The enhanced status code (RFC 3463 §2, RFC 2034 §4) is taken from the
// first line when its class digit equals the reply's first digit, and is
// stripped from each line that repeats it, so Reply::format() reproduces
// the wire form.
//
// SECURITY: every byte here comes from the server. The parser is pure (no
// I/O, no Asio), bounded in memory by max_line * max_lines, and fuzzed
// (tests/fuzz/smtp_reply_fuzz.cpp). Text is sanitised: bytes outside
// printable ASCII become '?' (Postfix smtp_chat.c does the same with
// printable()), so reply text is safe to log and to put into a DSN.
// XXX UTF-8 reply text (RFC 6531 §3.7.4.2) is flattened to '?' as well; we
// only log and relay it as diagnostic text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "relay/core/reply.hpp"

namespace mxgate::client {

struct ReplyLimits {
    size_t max_line = 2048;   // octets, without CRLF
    size_t max_lines = 256;
};

enum class ReplyStatus { need_more, complete, error };

class ReplyParser {
public:
    explicit ReplyParser(ReplyLimits limits = {}) : limits_(limits) {}

    // Parses complete lines from the front of buf. `consumed` receives the
    // number of bytes of buf used; the caller discards them (they are never
    // looked at again). Returns complete when a whole reply is ready (the
    // bytes after it stay unconsumed: a pipelined next reply), error on a
    // protocol violation (error() says which), need_more otherwise.
    ReplyStatus feed(std::string_view buf, size_t& consumed);

    // The reply after feed() returned complete; resets the parser.
    core::Reply take();
    const std::string& error() const { return error_; }
    void reset();

private:
    ReplyStatus fail(std::string why);
    ReplyStatus add_line(std::string_view line);

    ReplyLimits limits_;
    core::Reply reply_;
    size_t nlines_ = 0;
    bool done_ = false;
    std::string error_;
};

// Parses exactly one reply from text. nullopt-like: returns false and sets
// error when text is not one complete, valid reply (trailing bytes included).
bool parse_reply(std::string_view text, core::Reply& out, std::string& error,
                 ReplyLimits limits = {});

// "x.y.z" at the start of text with class digit `cls` (RFC 3463 §2:
// class "." subject "." detail, subject and detail 1..3 digits), followed
// by SP or the end. Returns its length, 0 when there is none.
size_t enhanced_code_length(std::string_view text, char cls);

}  // namespace mxgate::client
