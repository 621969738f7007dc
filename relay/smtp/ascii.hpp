// relay/smtp/ascii.hpp — locale-free ASCII helpers shared by the parsers.
//
// SMTP verbs, parameter keywords and domain names are case-insensitive in
// ASCII only (RFC 5321 §2.4); <cctype> depends on the C locale and takes
// signed chars badly, so these small inline functions are used instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mxgate::smtp::ascii {

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

inline std::string to_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = upper(c);
    return out;
}

}  // namespace mxgate::smtp::ascii

namespace mxgate::smtp::utf8 {

// Length (2..4) of the well-formed UTF-8 sequence of a non-ASCII character
// starting at s[i], or 0 when it is malformed, overlong, a surrogate or
// beyond U+10FFFF (RFC 3629 §4). Never reads past s.size().
inline size_t sequence_length(std::string_view s, size_t i) {
    auto at = [&](size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0x100u; };
    auto cont = [](unsigned c) { return c >= 0x80 && c <= 0xBF; };
    const unsigned c0 = at(0);
    if (c0 >= 0xC2 && c0 <= 0xDF) return cont(at(1)) ? 2 : 0;
    if (c0 >= 0xE0 && c0 <= 0xEF) {
        const unsigned c1 = at(1);
        const unsigned lo = c0 == 0xE0 ? 0xA0 : 0x80, hi = c0 == 0xED ? 0x9F : 0xBF;
        return (c1 >= lo && c1 <= hi && cont(at(2))) ? 3 : 0;
    }
    if (c0 >= 0xF0 && c0 <= 0xF4) {
        const unsigned c1 = at(1);
        const unsigned lo = c0 == 0xF0 ? 0x90 : 0x80, hi = c0 == 0xF4 ? 0x8F : 0xBF;
        return (c1 >= lo && c1 <= hi && cont(at(2)) && cont(at(3))) ? 4 : 0;
    }
    return 0;
}

}  // namespace mxgate::smtp::utf8
