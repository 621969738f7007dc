// relay/core/ascii.hpp — locale-free ASCII helpers for every module above
// conf (domain names, SMTP keywords, header names are case-insensitive in
// ASCII only; <cctype> depends on the C locale and takes signed chars badly).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mxgate::core::ascii {

constexpr bool is_alpha(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
constexpr bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
// A hexadecimal digit's value (either case), or -1.
constexpr int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Every octet for which `keep(c)` is false as "%XX" (upper-case hex),
// the others as they are. Callers choose what stays (file-name keys,
// separator-free report fields); hex_digit() reads it back.
template <class Keep>
std::string percent_encode(std::string_view s, Keep keep) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : s) {
        if (keep(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

inline bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

inline std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

// A domain name as a comparison key: lower-case, without the root's
// trailing dot ("MX.Example.ORG." -> "mx.example.org").
inline std::string domain_key(std::string_view s) {
    while (!s.empty() && s.back() == '.') s.remove_suffix(1);
    return to_lower(s);
}

// A dot-separated DNS name: at most 253 octets, at least `min_labels`
// labels of 1..63 octets, none starting or ending with '-', every octet
// accepted by `label_char` (the callers differ: LDH only, or also '_' and
// 8-bit). No trailing root dot.
template <class LabelChar>
bool dns_name_ok(std::string_view d, LabelChar label_char, size_t min_labels) {
    if (d.empty() || d.size() > 253) return false;
    size_t labels = 0;
    for (size_t start = 0; start <= d.size();) {
        size_t end = d.find('.', start);
        if (end == std::string_view::npos) end = d.size();
        const std::string_view label = d.substr(start, end - start);
        if (label.empty() || label.size() > 63) return false;
        if (label.front() == '-' || label.back() == '-') return false;
        for (const char c : label)
            if (!label_char(static_cast<unsigned char>(c))) return false;
        ++labels;
        start = end + 1;
    }
    return labels >= min_labels;
}

inline std::string to_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = upper(c);
    return out;
}

}  // namespace mxgate::core::ascii
