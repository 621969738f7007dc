// tests/fuzz/tlsrpt_record_fuzz.cpp — libFuzzer target for the TLS-RPT
// record parser (tlspolicy/tlsrpt_record.cpp). The input is one TXT text,
// and also split at NUL bytes into several records for
// select_tlsrpt_record. The promises of tlsrpt_record.hpp are checked (a
// violation traps).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tlspolicy/tlsrpt_record.hpp"

using namespace mxgate::tlspolicy;

namespace {

void require(bool ok) {
    if (!ok) __builtin_trap();
}

void check(const TlsRptRecord& r) {
    require(!r.rua.empty() && r.rua.size() <= 16);
    for (const std::string& u : r.rua) {
        require(u.size() <= 2048);
        require(u.rfind("mailto:", 0) == 0 || u.rfind("https://", 0) == 0);
        for (char c : u) require(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f);
        if (u.rfind("mailto:", 0) == 0) require(!tlsrpt_mailto_address(u).empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string error;
    if (auto r = parse_tlsrpt_record(in, error)) check(*r);
    else require(!error.empty());

    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t i = 0; i <= in.size(); ++i) {
        if (i == in.size() || in[i] == '\0') {
            parts.emplace_back(in.substr(start, i - start));
            start = i + 1;
        }
    }
    error.clear();
    if (auto r = select_tlsrpt_record(parts, error)) check(*r);
    else require(!error.empty());
    const std::string addr = tlsrpt_mailto_address(in);
    if (!addr.empty()) require(addr.find('@') != std::string::npos);
    if (auto u = tlsrpt_https_uri(in)) {
        require(!u->host.empty() && u->host.size() <= 253 && u->port != 0);
        require(!u->target.empty() && u->target[0] == '/');
        require(u->host.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-.") == std::string::npos);
        for (char c : u->target) require(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f && c != '#');
    }
    return 0;
}
