// relay/core/gzip.hpp — gzip (RFC 1952) compression of a byte string, for
// the reports mxgate sends (TLS-RPT, RFC 8460 §5.3: application/tlsrpt+gzip;
// DMARC aggregate reports). zlib's deflate with the gzip wrapper, default
// level. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

namespace mxgate::core {

// The gzip member of `data`. Throws std::runtime_error only when zlib
// itself fails (out of memory).
std::string gzip(std::string_view data);

}  // namespace mxgate::core
