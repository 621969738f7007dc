// relay/smtp/ascii.hpp — ASCII (relay/core/ascii.hpp) and UTF-8 helpers shared by the parsers.
//
// SMTP verbs, parameter keywords and domain names are case-insensitive in
// ASCII only (RFC 5321 §2.4); <cctype> depends on the C locale and takes
// signed chars badly, so these small inline functions are used instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "relay/core/ascii.hpp"

namespace mxgate::smtp {
// The ASCII helpers live in relay/core (shared with the other modules).
namespace ascii = core::ascii;
}  // namespace mxgate::smtp

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
