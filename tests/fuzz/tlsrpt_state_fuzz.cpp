// tests/fuzz/tlsrpt_state_fuzz.cpp — libFuzzer target for the stored form of
// the TLS-RPT day results (tlspolicy/tlsrpt_aggregate.cpp decode). Promises
// checked (a violation traps): a decoded record re-encodes to a text that
// decodes to the same record, and the JSON report of it is built without
// control characters.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tlspolicy/tlsrpt_aggregate.hpp"

using namespace mxgate::tlspolicy;

namespace {
void require(bool ok) {
    if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    auto d = decode(in);
    if (!d) return 0;
    const std::string again = encode(*d);
    auto d2 = decode(again);
    require(d2.has_value());
    require(encode(*d2) == again);
    ReportMeta m;
    m.policy_domain = "example.com";
    const std::string j = report_json(m, *d);
    for (char c : j) require(static_cast<unsigned char>(c) >= 0x20);
    (void)utc_day_start(in.substr(0, 10));
    return 0;
}
