// tests/fuzz/probe_records_fuzz.cpp — libFuzzer target for the probe's pure
// parsers (relay/client/probe_records.cpp). The input's first byte picks
// the parser; results are checked against the header's promises (a
// violation traps).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "relay/client/probe_records.hpp"

using namespace mxgate::client::probe;

namespace {

void require(bool ok) {
    if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string error;
    // byte 0 picks: 0 STS TXT, 1 STS policy, 3 HTTP response, else mx patterns
    switch (data[0] % 5) {
        case 0: {
            auto r = parse_sts_txt(in, error);
            if (r) require(!r->id.empty() && r->id.size() <= 32 && error.empty());
            break;
        }
        case 1: {
            auto p = parse_sts_policy(in, error);
            if (p) {
                require(p->mode == "enforce" || p->mode == "testing" || p->mode == "none");
                require(p->max_age <= 31557600);
                require(!p->mx.empty() || p->mode == "none");
                for (const auto& mx : p->mx) (void)sts_mx_matches(mx, "mx.example.org");
            } else {
                require(!error.empty());
            }
            break;
        }
        case 3: {
            auto r = parse_http_response(in, error, 4096);
            if (r) require(r->body.size() <= 4096 && r->status >= 0 && r->status <= 999);
            else require(!error.empty());
            break;
        }
        default: {
            const size_t cut = in.find('\n');
            if (cut != std::string_view::npos) (void)sts_mx_matches(in.substr(0, cut), in.substr(cut + 1));
            break;
        }
    }
    return 0;
}
