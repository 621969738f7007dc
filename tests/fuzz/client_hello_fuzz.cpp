// tests/fuzz/client_hello_fuzz.cpp — libFuzzer target for
// tlspolicy/client_hello_fields.cpp, the parsers of the bytes a TLS client
// sends in its ClientHello (supported_versions, cipher_suites, server_name).
// The whole input goes to each parser, and the input minus its first octet
// too (shifted framing).
//
// Checked properties (abort on violation):
//  - versions: at most (len-1)/2, none is GREASE, each a known name or
//    0xHHHH;
//  - ciphers: at most 64 and at most len/2; no GREASE or signalling suite
//    (0x00FF, 0x5600); each the lookup's name or 0xHHHH;
//  - server name: at most 255 characters, all printable ASCII or '?'.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tlspolicy/client_hello_fields.hpp"

using namespace mxgate::tlspolicy;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool hex_form(const std::string& s) {
    if (s.size() != 6 || s.compare(0, 2, "0x") != 0) return false;
    for (size_t i = 2; i < 6; ++i)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F'))) return false;
    return true;
}

unsigned hex_value(const std::string& s) { return static_cast<unsigned>(std::strtoul(s.c_str() + 2, nullptr, 16)); }

// A stand-in for SSL_CIPHER_find: knows the suites whose first octet is even.
const char* fake_name(const uint8_t* two) { return (two[0] % 2 == 0) ? "KNOWN-SUITE" : nullptr; }

void run(const uint8_t* data, size_t size) {
    const auto versions = parse_supported_versions(data, size);
    check(versions.size() <= (size > 0 ? (size - 1) / 2 : 0));
    for (const auto& v : versions) {
        const bool named = v == "SSLv3" || v == "TLSv1" || v == "TLSv1.1" || v == "TLSv1.2" || v == "TLSv1.3";
        check(named || hex_form(v));
        if (!named) check(!grease_value(hex_value(v)));
    }

    const auto ciphers = parse_cipher_suites(data, size, fake_name);
    check(ciphers.size() <= kMaxOfferedCiphers && ciphers.size() <= size / 2);
    for (const auto& c : ciphers) {
        check(c == "KNOWN-SUITE" || hex_form(c));
        if (hex_form(c)) {
            const unsigned v = hex_value(c);
            check(!grease_value(v) && v != 0x00FF && v != 0x5600);
            check(((v >> 8) % 2) == 1);  // the fake lookup names every even first octet
        }
    }

    const std::string sni = parse_server_name(data, size);
    check(sni.size() <= 255 && sni.size() + 5 <= size + (sni.empty() ? 5 : 0));
    for (char ch : sni) check(ch > 0x20 && ch < 0x7f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    run(data, size);
    if (size > 0) run(data + 1, size - 1);
    return 0;
}
