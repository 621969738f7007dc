// tlspolicy/client_hello_fields.cpp — ClientHello field parsers
// (client_hello_fields.hpp). Pure: built into a fuzz target.
#include "tlspolicy/client_hello_fields.hpp"

#include <cstdio>

namespace mxgate::tlspolicy {
namespace {

std::string hex16(unsigned v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%04X", v & 0xffffu);
    return buf;
}

unsigned u16(const uint8_t* p) { return (static_cast<unsigned>(p[0]) << 8) | p[1]; }

}  // namespace

bool grease_value(unsigned v) { return (v & 0x0f0f) == 0x0a0a && ((v >> 8) == (v & 0xff)); }

std::string tls_version_text(unsigned v) {
    switch (v) {
        case 0x0300: return "SSLv3";
        case 0x0301: return "TLSv1";
        case 0x0302: return "TLSv1.1";
        case 0x0303: return "TLSv1.2";
        case 0x0304: return "TLSv1.3";
        default: return hex16(v);
    }
}

std::vector<std::string> parse_supported_versions(const uint8_t* ext, size_t len) {
    std::vector<std::string> out;
    if (!ext || len < 1) return out;
    const size_t list = ext[0];
    // versions occupy ext[1 .. list]; never read past the buffer either
    for (size_t i = 1; i + 1 < len && i + 1 <= list; i += 2) {
        const unsigned v = u16(ext + i);
        if (!grease_value(v)) out.push_back(tls_version_text(v));
    }
    return out;
}

std::vector<std::string> parse_cipher_suites(const uint8_t* list, size_t len,
                                             const std::function<const char*(const uint8_t*)>& name_of) {
    std::vector<std::string> out;
    if (!list) return out;
    for (size_t i = 0; i + 1 < len && out.size() < kMaxOfferedCiphers; i += 2) {
        const unsigned v = u16(list + i);
        if (grease_value(v) || v == 0x00FF || v == 0x5600) continue;  // GREASE, renegotiation/fallback SCSV
        const char* name = name_of ? name_of(list + i) : nullptr;
        out.emplace_back(name ? std::string(name) : hex16(v));
    }
    return out;
}

std::string parse_server_name(const uint8_t* ext, size_t len) {
    // list length(2), type(1), name length(2), name
    if (!ext || len < 5) return {};
    const size_t n = u16(ext + 3);
    if (ext[2] != 0 || 5 + n > len || n > 255) return {};
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        const char c = static_cast<char>(ext[5 + i]);
        out += (c > 0x20 && c < 0x7f) ? c : '?';
    }
    return out;
}

}  // namespace mxgate::tlspolicy
