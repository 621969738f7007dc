// relay/client/smtp_text.cpp — see smtp_text.hpp.
#include "relay/client/smtp_text.hpp"

#include <fstream>

namespace mxgate::client {

void DotStuffer::feed(std::string_view in, std::string& out) {
    out.reserve(out.size() + in.size() + in.size() / 64 + 8);
    size_t start = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (at_line_start_ && c == '.') {
            // RFC 5321 §4.5.2: prepend one more period.
            out.append(in.substr(start, i - start));
            out.push_back('.');
            start = i;
        }
        // A line starts after any LF: the spool never holds a bare LF, but
        // should one slip through, a server that ends lines at LF (Postfix
        // does) must still never see an unstuffed "." line (smuggling).
        at_line_start_ = (c == '\n');
        ended_crlf_ = (c == '\n' && after_cr_);
        after_cr_ = (c == '\r');
    }
    out.append(in.substr(start));
}

void DotStuffer::finish(std::string& out) {
    if (!ended_crlf_) {
        // The final "." must follow a CRLF (RFC 5321 §4.1.1.4); an
        // unterminated last line is closed first.
        out += after_cr_ ? "\n" : "\r\n";
    }
    out += ".\r\n";
    at_line_start_ = true;
    ended_crlf_ = true;
    after_cr_ = false;
}

std::string dot_stuff(std::string_view prepend, std::string_view body) {
    DotStuffer s;
    std::string out;
    s.feed(prepend, out);
    s.feed(body, out);
    s.finish(out);
    return out;
}

bool safe_path(std::string_view s) {
    if (s.size() > 998) return false;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '<' || c == '>') return false;
    }
    return true;
}

namespace {

bool safe_param(std::string_view p) {
    if (p.empty() || !safe_path(p)) return false;
    return p.find(' ') == std::string_view::npos;
}

std::optional<std::string> path_command(std::string_view verb, std::string_view path,
                                        const std::vector<std::string>& params) {
    if (!safe_path(path)) return std::nullopt;
    std::string cmd(verb);
    cmd += '<';
    cmd += path;
    cmd += '>';
    for (const auto& p : params) {
        if (!safe_param(p)) return std::nullopt;
        cmd += ' ';
        cmd += p;
    }
    cmd += "\r\n";
    return cmd;
}

}  // namespace

std::optional<std::string> mail_from_command(std::string_view sender,
                                             const std::vector<std::string>& params) {
    return path_command("MAIL FROM:", sender, params);
}

std::optional<std::string> rcpt_to_command(std::string_view rcpt,
                                           const std::vector<std::string>& params) {
    if (rcpt.empty()) return std::nullopt;
    return path_command("RCPT TO:", rcpt, params);
}

std::string base64_encode(std::string_view in) {
    static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) |
                           uint32_t(uint8_t(in[i + 2]));
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += tbl[(v >> 6) & 63];
        out += tbl[v & 63];
    }
    const size_t rest = in.size() - i;
    if (rest == 1) {
        const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += tbl[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string sasl_plain(std::string_view user, std::string_view password) {
    std::string raw;
    raw.reserve(user.size() + password.size() + 2);
    raw.push_back('\0');   // authzid empty: act as the authenticated user
    raw.append(user);
    raw.push_back('\0');
    raw.append(password);
    std::string out = base64_encode(raw);
    // Best effort: do not leave the cleartext copy lying in freed memory.
    for (char& c : raw) c = 0;
    return out;
}

std::optional<std::string> read_password_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read password_file " + path;
        return std::nullopt;
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
        error = "password_file " + path + " has an empty first line";
        return std::nullopt;
    }
    return line;
}

bool has_8bit(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return true;
    return false;
}

}  // namespace mxgate::client
