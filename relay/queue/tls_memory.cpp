// relay/queue/tls_memory.cpp — see tls_memory.hpp.
#include "relay/queue/tls_memory.hpp"

namespace mxgate::queue {

const char* grade_name(TlsGrade g) {
    switch (g) {
        case TlsGrade::plaintext: return "plaintext";
        case TlsGrade::encrypted: return "encrypted";
        case TlsGrade::verified: return "verified";
    }
    return "plaintext";
}

std::optional<TlsGrade> TlsMemory::best(std::string_view domain) const {
    const auto v = store_.get(domain);
    if (!v) return std::nullopt;
    if (*v == "verified") return TlsGrade::verified;
    if (*v == "encrypted") return TlsGrade::encrypted;
    return std::nullopt;  // unknown value: as if nothing was seen
}

std::optional<TlsGrade> TlsMemory::observe(std::string_view domain, TlsGrade g) {
    const auto prev = best(domain);
    if (prev && g < *prev) return prev;
    if (g != TlsGrade::plaintext && (!prev || g > *prev)) store_.put(domain, grade_name(g));
    return std::nullopt;
}

}  // namespace mxgate::queue
