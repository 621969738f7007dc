// relay/spool/trailer.cpp — message file trailer (see trailer.hpp).
#include "relay/spool/trailer.hpp"

namespace mxgate::spool {

namespace {

void put_be64(std::string& out, uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be64(std::string_view in) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
    return v;
}

// The first 24 trailer bytes (offset, length, body sum).
std::string fixed_part(const Trailer& t) {
    std::string s;
    put_be64(s, t.env_offset);
    put_be64(s, t.env_length);
    put_be64(s, t.body_sum);
    return s;
}

uint64_t env_sum_of(const Trailer& t, std::string_view envelope) {
    return fnv1a64(fixed_part(t), fnv1a64(envelope));
}

}  // namespace

uint64_t fnv1a64(std::string_view data, uint64_t seed) {
    uint64_t h = seed;
    for (unsigned char c : data) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

std::string encode_trailer(Trailer t, std::string_view envelope) {
    t.env_sum = env_sum_of(t, envelope);
    std::string s = fixed_part(t);
    put_be64(s, t.env_sum);
    s.append(kTrailerMagic);
    return s;
}

std::optional<Trailer> decode_trailer(std::string_view tail, uint64_t file_size) {
    if (tail.size() != kTrailerSize || file_size < kTrailerSize) return std::nullopt;
    if (tail.substr(32, 8) != kTrailerMagic) return std::nullopt;
    Trailer t;
    t.env_offset = get_be64(tail.substr(0, 8));
    t.env_length = get_be64(tail.substr(8, 8));
    t.body_sum = get_be64(tail.substr(16, 8));
    t.env_sum = get_be64(tail.substr(24, 8));
    uint64_t room = file_size - kTrailerSize;
    // Overflow-safe form of env_offset + env_length == room.
    if (t.env_offset > room || t.env_length != room - t.env_offset) return std::nullopt;
    return t;
}

bool envelope_sum_ok(const Trailer& t, std::string_view envelope) {
    return envelope.size() == t.env_length && env_sum_of(t, envelope) == t.env_sum;
}

}  // namespace mxgate::spool
