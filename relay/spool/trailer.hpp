// relay/spool/trailer.hpp — the fixed-size trailer that ends every
// committed message file (private to relay/spool; docs/spool.md).
//
//   offset  size  field
//   0       8     envelope offset (= body length), big-endian
//   8       8     envelope length, big-endian
//   16      8     FNV-1a 64 of the body bytes
//   24      8     FNV-1a 64 of the envelope bytes, then trailer bytes 0..23
//   32      8     magic "MXGQEND1"
//
// A file is a committed message only if its last 40 bytes parse here, the
// offsets add up to the file size exactly, and the envelope checksum
// matches; a truncated or half-written file fails one of these.
//
// SECURITY: parses untrusted disk bytes; pure and fuzzed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxgate::spool {

inline constexpr size_t kTrailerSize = 40;
inline constexpr std::string_view kTrailerMagic = "MXGQEND1";
inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;

struct Trailer {
    uint64_t env_offset = 0;
    uint64_t env_length = 0;
    uint64_t body_sum = 0;
    uint64_t env_sum = 0;
};

// FNV-1a 64; pass the previous result as seed to continue a running sum.
uint64_t fnv1a64(std::string_view data, uint64_t seed = kFnvOffset);

// Fills in env_sum from the envelope bytes and renders the 40 bytes.
std::string encode_trailer(Trailer t, std::string_view envelope);
// Parses the last kTrailerSize bytes of a file of file_size bytes; checks
// the magic and that offset + length + trailer == file_size. The caller
// then reads the envelope and calls envelope_sum_ok().
std::optional<Trailer> decode_trailer(std::string_view tail, uint64_t file_size);
bool envelope_sum_ok(const Trailer& t, std::string_view envelope);

}  // namespace mxgate::spool
