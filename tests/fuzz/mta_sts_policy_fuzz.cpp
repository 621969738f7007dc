// tests/fuzz/mta_sts_policy_fuzz.cpp — libFuzzer target for
// parse_sts_policy, sts_mx_pattern_matches and the cache record format
// (tlspolicy/mta_sts.cpp). Checks the promises of mta_sts.hpp: an accepted
// policy has a known mode, max_age within range, mx patterns that are
// lower-case and (unless mode none) at least one; a policy survives a trip
// through the cache format unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tlspolicy/mta_sts.hpp"

using namespace mxgate::tlspolicy;

namespace {
void require(bool ok) {
    if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string err;
    auto p = parse_sts_policy(in, err);
    if (p) {
        require(p->max_age >= 0 && p->max_age <= 31557600);
        require(p->mode == StsMode::none || !p->mx.empty());
        for (const auto& m : p->mx) {
            for (char c : m) require(!(c >= 'A' && c <= 'Z'));
            require(sts_mx_pattern_matches(m, m) || m.rfind("*.", 0) == 0);
            if (m.rfind("*.", 0) == 0) require(sts_mx_pattern_matches(m, "x" + m.substr(1)));
        }
        StsCacheEntry e;
        e.id = "fuzz";
        e.fetched = 1;
        e.body = std::string(in);
        auto back = parse_cache_entry(serialize_cache_entry(e));
        require(back.has_value());
        require(back->policy.mx == p->mx && back->policy.mode == p->mode && back->policy.max_age == p->max_age);
    } else {
        require(!err.empty());
    }
    // The same bytes as a cache record and as an MX pattern / host pair.
    (void)parse_cache_entry(in);
    const size_t nl = in.find('\n');
    if (nl != std::string_view::npos) (void)sts_mx_pattern_matches(in.substr(0, nl), in.substr(nl + 1));
    return 0;
}
