// tests/fuzz/mta_sts_txt_fuzz.cpp — libFuzzer target for parse_sts_txt and
// select_sts_record (tlspolicy/mta_sts.cpp). An accepted record has an id of
// 1..32 alphanumerics; selection among several records (the input split at
// NUL bytes) returns a record only when exactly one starts with STSv1.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tlspolicy/mta_sts.hpp"

using namespace mxgate::tlspolicy;

namespace {
void require(bool ok) {
    if (!ok) __builtin_trap();
}
void check(const std::optional<StsRecord>& r) {
    if (!r) return;
    require(!r->id.empty() && r->id.size() <= 32);
    for (char c : r->id)
        require((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto one = parse_sts_txt(in);
    check(one);
    if (one) require(in.substr(0, 7) == "v=STSv1");
    std::vector<std::string> records;
    size_t start = 0;
    while (start <= in.size()) {
        size_t end = in.find('\0', start);
        if (end == std::string_view::npos) end = in.size();
        records.emplace_back(in.substr(start, end - start));
        start = end + 1;
    }
    const auto sel = select_sts_record(records);
    check(sel);
    return 0;
}
