// relay/spool/queue_id.cpp — queue ids: new_queue_id, is_valid_queue_id.
//
// An id is 13 uppercase hex digits of microseconds since the epoch (52
// bits: sorts by time until the year 2112; 10 digits would wrap every
// 12.7 days) followed by 7 random hex digits (28 bits) so that two
// processes (the daemon and `mxgate queue bounce`) do not collide.
// Within one process the time part is made strictly increasing, so ids
// from this process are unique even when the clock steps back; the file
// spool also creates files with O_EXCL and retries with a fresh id.
//
// SECURITY: ids become file names; only [0-9A-F]{20} is ever valid.
#include <sys/random.h>

#include <atomic>
#include <chrono>
#include <random>

#include "relay/spool/spool.hpp"

namespace mxgate::spool {

namespace {

constexpr size_t kTimeDigits = 13;
constexpr size_t kRandomDigits = 7;
constexpr char kHex[] = "0123456789ABCDEF";

uint32_t random_bits() {
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) == static_cast<ssize_t>(sizeof v)) return v;
    static thread_local std::mt19937 fallback{std::random_device{}()};
    return fallback();
}

void put_hex(std::string& out, uint64_t v, size_t digits) {
    for (size_t i = digits; i-- > 0;) out.push_back(kHex[(v >> (4 * i)) & 0xf]);
}

}  // namespace

std::string new_queue_id() {
    static std::atomic<uint64_t> last{0};
    uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
    uint64_t prev = last.load();
    uint64_t t;
    do {
        t = now > prev ? now : prev + 1;
    } while (!last.compare_exchange_weak(prev, t));
    std::string id;
    id.reserve(kTimeDigits + kRandomDigits);
    put_hex(id, t, kTimeDigits);
    put_hex(id, random_bits(), kRandomDigits);
    return id;
}

bool is_valid_queue_id(std::string_view id) {
    if (id.size() != kTimeDigits + kRandomDigits) return false;
    for (char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
    return true;
}

}  // namespace mxgate::spool
