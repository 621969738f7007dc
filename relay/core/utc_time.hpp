// relay/core/utc_time.hpp — a Unix time as UTC text in a strftime format,
// for every place that writes one (reports, journal bounds, CLI tables).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace mxgate::core {

// `fmt` must fit 63 characters of output ("%Y-%m-%dT%H:%M:%SZ" and kin).
inline std::string utc_text(int64_t t, const char* fmt) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    const size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
    return std::string(buf, n);
}

}  // namespace mxgate::core
