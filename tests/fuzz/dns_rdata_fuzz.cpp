// tests/fuzz/dns_rdata_fuzz.cpp — libFuzzer target for the pure DNS parsers
// (relay/core/dns_rdata.cpp, dns_message.cpp): every parser gets the same
// arbitrary bytes, and what they return is checked against the promises in
// dns_rdata.hpp (a violation traps, so the fuzzer reports it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "relay/core/dns_rdata.hpp"

using namespace mxgate::core;

namespace {

void require(bool ok) {
    if (!ok) __builtin_trap();
}

// Output of parse_wire_name: lower-case LDH/underscore labels joined by
// single dots, at most 253 characters (255 wire octets).
void check_name(const std::string& n) {
    require(n.size() <= 253);
    require(n.empty() || (n.front() != '.' && n.back() != '.'));
    require(n.find("..") == std::string::npos);
    for (char c : n)
        require((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    // Names back to back, as in a record with several of them.
    size_t pos = 0;
    while (pos < in.size()) {
        const size_t before = pos;
        auto name = parse_wire_name(in, pos);
        if (!name) {
            require(pos == before);  // untouched on failure
            break;
        }
        require(pos > before && pos <= in.size());
        check_name(*name);
    }

    if (auto mx = parse_mx_rdata(in)) check_name(mx->host);
    if (auto a = parse_a_rdata(in)) require(in.size() == 4 && a->size() >= 7 && a->size() <= 15);
    if (auto aaaa = parse_aaaa_rdata(in)) require(in.size() == 16 && aaaa->size() >= 2 && aaaa->size() <= 45);
    if (auto txt = parse_txt_rdata(in)) require(txt->size() < in.size());
    if (auto tlsa = parse_tlsa_rdata(in)) require(tlsa->data.size() + 3 == in.size());

    // The AD probe: a reply to a query whose ID is the input's first two
    // octets (so the fuzzer can reach the question check), and the input
    // as a name to encode.
    const uint16_t id = size >= 2 ? static_cast<uint16_t>((data[0] << 8) | data[1]) : 0;
    const uint16_t type = size >= 4 ? static_cast<uint16_t>((data[2] << 8) | data[3]) : 15;
    if (auto q = build_ad_query("mx.example.test", type, id)) {
        if (auto h = parse_ad_reply(in, *q)) require(h->rcode <= 15);
    }
    if (auto q = build_ad_query(in, 1, id)) {
        require(q->size() >= 12 + 1 + 4 + 11 && q->size() <= 12 + 255 + 4 + 11);
        require(parse_ad_reply(*q, *q) == std::nullopt);  // QR clear: a query is never a reply
    }
    return 0;
}
