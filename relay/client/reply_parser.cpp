// relay/client/reply_parser.cpp — see reply_parser.hpp for the rules.
#include "relay/client/reply_parser.hpp"

#include <utility>

namespace mxgate::client {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Postfix-style printable(): anything outside 0x20..0x7e becomes '?'.
std::string sanitize(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e) c = '?';
    }
    return out;
}

// Length of 1..3 digits at s[pos...]; 0 if none or more than 3.
size_t digit_run(std::string_view s, size_t pos) {
    size_t n = 0;
    while (pos + n < s.size() && is_digit(s[pos + n])) ++n;
    return n <= 3 ? n : 0;
}

}  // namespace

size_t enhanced_code_length(std::string_view text, char cls) {
    // RFC 3463 §2: status-code = class "." subject "." detail
    if (text.size() < 5 || text[0] != cls || text[1] != '.') return 0;
    const size_t subj = digit_run(text, 2);
    if (subj == 0) return 0;
    size_t pos = 2 + subj;
    if (pos >= text.size() || text[pos] != '.') return 0;
    const size_t det = digit_run(text, pos + 1);
    if (det == 0) return 0;
    pos += 1 + det;
    if (pos < text.size() && text[pos] != ' ') return 0;
    return pos;
}

void ReplyParser::reset() {
    reply_ = core::Reply{};
    reply_.lines.clear();
    nlines_ = 0;
    done_ = false;
    error_.clear();
}

core::Reply ReplyParser::take() {
    core::Reply out = std::move(reply_);
    reset();
    return out;
}

ReplyStatus ReplyParser::fail(std::string why) {
    error_ = std::move(why);
    return ReplyStatus::error;
}

ReplyStatus ReplyParser::add_line(std::string_view line) {
    // RFC 5321 §4.2: Reply-code [ ("-" / SP) textstring ] CRLF
    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]))
        return fail("reply line does not start with a three-digit code");
    if (line[0] < '2' || line[0] > '5') return fail("reply code outside 2xx..5xx");
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    bool last = true;
    if (line.size() > 3) {
        if (line[3] == '-') last = false;
        else if (line[3] != ' ') return fail("reply code not followed by SP or '-'");
    }
    if (nlines_ == 0) {
        reply_.code = code;
    } else if (code != reply_.code) {
        // RFC 5321 §4.2.1: all lines of a multiline reply use the same code.
        return fail("inconsistent codes within one multiline reply");
    }
    if (++nlines_ > limits_.max_lines) return fail("reply has too many lines");

    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    if (nlines_ == 1) {
        const size_t n = enhanced_code_length(text, line[0]);
        if (n != 0) reply_.enhanced = std::string(text.substr(0, n));
    }
    if (!reply_.enhanced.empty() && text.substr(0, reply_.enhanced.size()) == reply_.enhanced &&
        (text.size() == reply_.enhanced.size() || text[reply_.enhanced.size()] == ' ')) {
        text.remove_prefix(reply_.enhanced.size());
        if (!text.empty()) text.remove_prefix(1);
    }
    reply_.lines.push_back(sanitize(text));
    if (last) done_ = true;
    return last ? ReplyStatus::complete : ReplyStatus::need_more;
}

ReplyStatus ReplyParser::feed(std::string_view buf, size_t& consumed) {
    consumed = 0;
    if (!error_.empty()) return ReplyStatus::error;
    if (done_) return ReplyStatus::complete;
    while (consumed < buf.size()) {
        const std::string_view rest = buf.substr(consumed);
        const size_t lf = rest.find('\n');
        if (lf == std::string_view::npos) {
            // No terminator yet: a line that is already too long (allowing
            // for its CR) is an error now, not after more data arrives.
            if (rest.size() > limits_.max_line + 1) return fail("reply line too long");
            return ReplyStatus::need_more;
        }
        std::string_view line = rest.substr(0, lf);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > limits_.max_line) return fail("reply line too long");
        consumed += lf + 1;
        const ReplyStatus st = add_line(line);
        if (st != ReplyStatus::need_more) return st;
    }
    return ReplyStatus::need_more;
}

bool parse_reply(std::string_view text, core::Reply& out, std::string& error, ReplyLimits limits) {
    ReplyParser p(limits);
    size_t used = 0;
    const ReplyStatus st = p.feed(text, used);
    if (st == ReplyStatus::error) {
        error = p.error();
        return false;
    }
    if (st != ReplyStatus::complete) {
        error = "incomplete reply";
        return false;
    }
    if (used != text.size()) {
        error = "bytes after the reply";
        return false;
    }
    out = p.take();
    return true;
}

}  // namespace mxgate::client
