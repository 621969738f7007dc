// tlspolicy/client_hello_fields.hpp — the pure parsers behind
// capture_client_hello() (client_hello.cpp): the bytes OpenSSL hands the
// ClientHello callback (supported_versions extension, cipher suite list,
// server_name extension) turned into the names an event shows. No OpenSSL
// calls here (fuzzed: tests/fuzz/client_hello_fuzz.cpp); the cipher name
// lookup is passed in.
//
// SECURITY: every byte is the peer's. Lengths inside the extensions are
// checked against the buffer; the cipher list is capped (kMaxOfferedCiphers);
// GREASE values (RFC 8701) and signalling suites are left out; the SNI is
// at most 255 printable ASCII characters.
// RFCs: 8446 §4.1.2 and §4.2.1, 6066 §3, 8701.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mxgate::tlspolicy {

inline constexpr size_t kMaxOfferedCiphers = 64;

// RFC 8701: 0x0A0A, 0x1A1A, ... 0xFAFA.
bool grease_value(unsigned v);
// "TLSv1.2" etc.; "0x0305" for anything else.
std::string tls_version_text(unsigned v);
// supported_versions extension body (RFC 8446 §4.2.1: a length octet, then
// two octets per version). Empty when it names no usable version.
std::vector<std::string> parse_supported_versions(const uint8_t* ext, size_t len);
// The cipher_suites vector (two octets each). name_of(two octets) gives the
// library's name or nullptr; unknown suites appear as "0xC0FF".
std::vector<std::string> parse_cipher_suites(const uint8_t* list, size_t len,
                                             const std::function<const char*(const uint8_t*)>& name_of);
// server_name extension body (RFC 6066 §3): the first host_name, non-printable
// characters as '?'; "" when malformed.
std::string parse_server_name(const uint8_t* ext, size_t len);

}  // namespace mxgate::tlspolicy
