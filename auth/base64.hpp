// auth/base64.hpp — strict base64 (RFC 4648 §4) for SASL exchanges
// (RFC 4954 §4: challenges and responses are base64 on the wire).
//
// Strict on purpose: only the standard alphabet, '=' padding required to a
// multiple of four, no whitespace, and the unused bits of the last symbol
// must be zero — so one byte string has exactly one encoding and a
// malformed response is refused (501 5.5.2) instead of half-decoded.
//
// SECURITY: the input is peer text that carries passwords. Pure functions,
// no logging; fuzzed by tests/fuzz/sasl_response_fuzz.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxgate::auth {

std::optional<std::string> decode_base64(std::string_view in);
std::string encode_base64(std::string_view in);

// Overwrites a string's bytes before it is freed (decoded secrets). The
// writes go through a volatile pointer so the compiler cannot drop them.
void wipe(std::string& s);

}  // namespace mxgate::auth
