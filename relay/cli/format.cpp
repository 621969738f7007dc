#include "relay/cli/format.hpp"

#include <cstdio>
#include <ctime>

#include "relay/core/event_sink.hpp"
#include "relay/core/utc_time.hpp"

namespace mxgate::cli {

std::string format_age(int64_t s) {
    if (s < 0) s = 0;
    char buf[32];
    if (s < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(s / 60));
    else if (s < 86400) std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
    else std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400), static_cast<long long>(s % 86400 / 3600));
    return buf;
}

std::string json_string(std::string_view s) {
    // Reuse the event writer's escaping: render a one-field event and cut.
    core::Event e("x");
    e.set(core::Field::reason, s);
    const std::string j = core::to_json(e, "");
    const std::string key = "\"reason\":";
    const auto p = j.find(key);
    return j.substr(p + key.size(), j.size() - p - key.size() - 1);
}

std::string format_time(int64_t t) {
    if (t <= 0) return "-";
    return core::utc_text(t, "%Y-%m-%d %H:%M:%SZ");
}

}  // namespace mxgate::cli
