// relay/queue/tls_memory.hpp — per-destination memory of the best TLS a
// delivery to a domain ever achieved (core::StateStore "tls-seen"), so a
// later weaker delivery is visible: tls.destination_downgrade (SPEC §9).
//
// Grades: plaintext < encrypted (TLS, certificate not verified for the MX)
// < verified (chain verified and the certificate names the MX / match).
// Only upgrades are written; a downgrade is reported, never remembered, so
// one attacker-forced plaintext delivery does not erase the memory.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "relay/core/state_store.hpp"

namespace mxgate::queue {

enum class TlsGrade { plaintext = 0, encrypted = 1, verified = 2 };
const char* grade_name(TlsGrade g);

class TlsMemory {
public:
    explicit TlsMemory(core::StateStore store) : store_(std::move(store)) {}
    std::optional<TlsGrade> best(std::string_view domain) const;
    // Records `g` for `domain`; returns the previous best when `g` is weaker
    // than it (a downgrade to report), nullopt otherwise.
    std::optional<TlsGrade> observe(std::string_view domain, TlsGrade g);

private:
    core::StateStore store_;
};

}  // namespace mxgate::queue
