// relay/report/report_format.cpp — --since parsing and the small text/JSON
// helpers the three reports share.
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "relay/core/event_sink.hpp"
#include "relay/core/utc_time.hpp"
#include "relay/report/report.hpp"

namespace mxgate::report {
namespace {

std::string journal_ts(int64_t t) {
    // Before 1970 means "everything"; after 9999 cannot be written in the form.
    t = std::clamp<int64_t>(t, 0, 253402300799);
    return core::utc_text(t, "%Y-%m-%dT%H:%M:%S.000Z");
}

bool digits(const std::string& s, size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

// RFC 3339 §5.6 date-time -> unix seconds (fractions dropped).
std::optional<int64_t> parse_rfc3339(const std::string& s) {
    int y, mo, d, h, mi, se;
    if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) ||
        s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
    size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        ++i;
        const size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == start) return std::nullopt;
    }
    int64_t offset = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2, om) || oh > 23 ||
            om > 59)
            return std::nullopt;
        offset = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return static_cast<int64_t>(timegm(&tm)) - offset;
}

}  // namespace

std::optional<std::string> parse_since(const std::string& text, int64_t now, std::string& error) {
    if (text.size() >= 2 && text.find_first_not_of("0123456789") == text.size() - 1) {
        const char unit = text.back();
        const int64_t mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400
                           : unit == 'w' ? 7 * 86400 : 0;
        if (mult != 0 && text.size() <= 10) return journal_ts(now - std::stoll(text.substr(0, text.size() - 1)) * mult);
    }
    if (auto t = parse_rfc3339(text)) return journal_ts(*t);
    error = "--since: '" + printable(text) +
            "' is neither an RFC 3339 time (2026-11-22T10:00:00Z) nor a duration (30m, 24h, 7d, 2w)";
    return std::nullopt;
}

std::string json_quote(const std::string& s) {
    // The event writer's escaping (control characters, invalid UTF-8).
    core::Event e("x");
    e.set(core::Field::reason, s);
    const std::string j = core::to_json(e, "");
    const std::string key = "\"reason\":";
    const auto p = j.find(key);
    return j.substr(p + key.size(), j.size() - p - key.size() - 1);
}

std::string printable(const std::string& s) {
    std::string out = s;
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], r[i].size());
        }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += printable(r[i]);
            if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

}  // namespace mxgate::report
