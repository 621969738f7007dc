// tlspolicy/detail.hpp — helpers shared by the tlspolicy .cpp files; not
// part of the public interface (include tlspolicy/tlspolicy.hpp instead).
//
//   openssl_errors()      drain the thread's OpenSSL error queue as text
//   apply_profile()       put ProfileSettings + fixed options on an SSL_CTX
//                         (context_setup.cpp)
//   readable_file_error() "cannot read /x: No such file or directory" or ""
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <string_view>

#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy::detail {

// Text of every queued OpenSSL error, oldest first, "; "-separated; clears
// the queue. Returns "" when the queue is empty.
std::string openssl_errors();

// Applies the protocol range, cipher lists, groups and the options every
// mxgate context shares (no compression, no renegotiation, server cipher
// preference, no session tickets). `settings` must come from
// resolve_profile(), which validated it; a failure here is still reported.
bool apply_profile(SSL_CTX* ctx, const ProfileSettings& settings, std::string& error);

// "" when `path` can be opened for reading, else "cannot read PATH: strerror".
std::string readable_file_error(const std::string& path);

// ASCII-only lower-casing: host names are compared as A-labels (RFC 6125
// §6.4.1); locale-dependent tolower must not be used for them.
std::string ascii_lower(std::string_view s);

}  // namespace mxgate::tlspolicy::detail
