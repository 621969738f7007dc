// relay/cli/format.hpp — small text helpers for command output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mxgate::cli {

// "45s", "12m", "3h05m", "2d04h".
std::string format_age(int64_t seconds);
// A JSON string literal with escapes.
std::string json_string(std::string_view s);
// "2026-11-22 12:00:00Z" for a unix time, "-" for 0.
std::string format_time(int64_t unix_seconds);

}  // namespace mxgate::cli
