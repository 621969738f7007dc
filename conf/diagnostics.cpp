// conf/diagnostics.cpp — how configuration problems are positioned and
// printed: "FILE:LINE:COL: message" (1-based), typo suggestions for unknown
// keys, and clipping of quoted values.
#include <algorithm>

#include "conf/conf.hpp"
#include "conf/detail.hpp"

namespace mxgate::conf {

std::string Diagnostic::text() const {
    // Line 0 means "not from a position in the file" (e.g. the file is unreadable).
    if (mark.line <= 0) return mark.file + ": " + message;
    return mark.file + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.col) + ": " + message;
}

namespace detail {

Mark Errors::mark(const YAML::Mark& m) const {
    Mark out;
    out.file = file_;
    // yaml-cpp marks are 0-based and -1 when unknown (a null node it synthesised).
    out.line = m.line >= 0 ? m.line + 1 : 0;
    out.col = m.column >= 0 ? m.column + 1 : 0;
    return out;
}

Mark Errors::mark(const YAML::Node& n) const {
    if (!n.IsDefined()) return mark(YAML::Mark::null_mark());
    return mark(n.Mark());
}

Mark Errors::mark(const Entry& e) const {
    const bool empty = !e.value.IsDefined() || e.value.IsNull();
    if (empty && e.key.IsDefined()) return mark(e.key);
    return mark(e.value);
}

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two neighbours ("tsl" is one edit from "tls").
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

}  // namespace

std::string closest(std::string_view word, const std::vector<std::string_view>& candidates) {
    if (word.size() > 64) return "";  // not a typo of a schema key; skip the O(n*m) work
    std::string_view best;
    size_t best_d = 0;
    for (std::string_view c : candidates) {
        const size_t d = edit_distance(word, c);
        if (best.empty() || d < best_d) {
            best = c;
            best_d = d;
        }
    }
    // A plausible typo: at most a third of the key changed (and at least one edit allowed).
    const size_t allowed = std::max<size_t>(1, best.size() / 3);
    if (best.empty() || best_d > allowed) return "";
    return std::string(best);
}

std::string clip(std::string_view value) {
    constexpr size_t kMax = 60;
    std::string out = "'";
    for (char ch : value.substr(0, kMax)) {
        const auto c = static_cast<unsigned char>(ch);
        // Control bytes would corrupt a terminal or a JSON log line; show them escaped.
        if (c < 0x20 || c == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += ch;
        }
    }
    if (value.size() > kMax) out += "...";
    out += "'";
    return out;
}

}  // namespace detail
}  // namespace mxgate::conf
