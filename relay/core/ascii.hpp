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

inline std::string to_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = upper(c);
    return out;
}

}  // namespace mxgate::core::ascii
