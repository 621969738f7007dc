// relay/spool/dsn_text.cpp — text helpers for DSNs (dsn_text.hpp).
#include "relay/spool/dsn_text.hpp"

#include <algorithm>
#include <ctime>

namespace mxgate::spool::dsntext {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// 1-3 digits (RFC 3463 §2: class "." 1*3digit "." 1*3digit; class 2/4/5).
size_t digits(std::string_view s, size_t pos) {
    size_t n = 0;
    while (pos + n < s.size() && n < 4 && digit(s[pos + n])) ++n;
    return n >= 1 && n <= 3 ? n : 0;
}

constexpr size_t kSoftLimit = 78;
constexpr size_t kHardLimit = 998;

}  // namespace

std::string rfc5322_date(int64_t t) {
    static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (!gmtime_r(&tt, &tm)) return "Thu, 1 Jan 1970 00:00:00 +0000";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
                  kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string one_line(std::string_view s, bool keep_utf8) {
    std::string out;
    out.reserve(s.size());
    bool in_break = false;
    for (unsigned char c : s) {
        if (c == '\r' || c == '\n') {
            if (!in_break && !out.empty()) out.push_back(' ');
            in_break = true;
            continue;
        }
        in_break = false;
        if (c == '\t') out.push_back(' ');
        else if (c < 0x20 || c == 0x7f) out.push_back('?');
        else if (c >= 0x80 && !keep_utf8) out.push_back('?');
        else out.push_back(static_cast<char>(c));
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::string field(std::string_view name, std::string_view value) {
    std::string line = std::string(name) + ": ";
    std::string out;
    size_t pos = 0;
    while (pos < value.size()) {
        size_t room = line.size() < kSoftLimit ? kSoftLimit - line.size() : 0;
        std::string_view rest = value.substr(pos);
        if (rest.size() <= room) {
            line.append(rest);
            pos = value.size();
            break;
        }
        // Break before a space within the soft limit, else at the next
        // space, else (one very long word) hard at the limit.
        size_t cut = rest.rfind(' ', room);
        if (cut == 0 || cut == std::string_view::npos) cut = rest.find(' ', 1);
        size_t hard = kHardLimit - line.size();
        if (cut == std::string_view::npos && rest.size() <= hard) {
            line.append(rest);  // one long word that still fits the hard limit
            pos = value.size();
            break;
        }
        if (cut == std::string_view::npos || cut > hard) cut = hard;
        line.append(rest.substr(0, cut));
        out += line + "\r\n";
        pos += cut;
        // The continuation starts with white space (RFC 5322 §2.2.3): the
        // space we broke before, or one we add after a hard split.
        line = value[pos] == ' ' ? "" : " ";
        if (line.empty()) {
            line = " ";
            ++pos;
        }
    }
    out += line + "\r\n";
    return out;
}

std::string wrap(std::string_view text) {
    std::string out;
    while (text.size() > kSoftLimit) {
        size_t cut = text.rfind(' ', kSoftLimit);
        if (cut == std::string_view::npos || cut == 0) cut = text.find(' ', 1);
        if (cut == std::string_view::npos || cut > kHardLimit) cut = std::min(text.size(), kHardLimit);
        out.append(text.substr(0, cut));
        out += "\r\n";
        text.remove_prefix(cut);
        while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    }
    if (!text.empty()) {
        out.append(text);
        out += "\r\n";
    }
    return out;
}

std::string_view header_section(std::string_view m) {
    if (m.substr(0, 2) == "\r\n") return {};
    size_t end = m.find("\r\n\r\n");
    return end == std::string_view::npos ? m : m.substr(0, end + 2);
}

int reply_code(std::string_view r) {
    if (r.size() < 3 || !digit(r[0]) || !digit(r[1]) || !digit(r[2])) return 0;
    if (r.size() > 3 && r[3] != ' ' && r[3] != '-') return 0;
    return (r[0] - '0') * 100 + (r[1] - '0') * 10 + (r[2] - '0');
}

std::string reply_status(std::string_view r) {
    int code = reply_code(r);
    if (code == 0 || r.size() < 5) return {};
    size_t p = 4;
    char cls = r[p];
    if (cls != '2' && cls != '4' && cls != '5') return {};
    if (cls != r[0]) return {};  // RFC 3463 §2: class matches the reply
    if (p + 1 >= r.size() || r[p + 1] != '.') return {};
    size_t a = digits(r, p + 2);
    if (!a || p + 2 + a >= r.size() || r[p + 2 + a] != '.') return {};
    size_t b = digits(r, p + 3 + a);
    if (!b) return {};
    size_t end = p + 3 + a + b;
    if (end < r.size() && r[end] != ' ' && r[end] != '\r' && r[end] != '\n') return {};
    return std::string(r.substr(p, end - p));
}

bool is_ascii(std::string_view s) {
    for (unsigned char c : s)
        if (c >= 0x80) return false;
    return true;
}

}  // namespace mxgate::spool::dsntext
