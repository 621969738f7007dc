// tlspolicy/dane_rules.hpp — the pure half of DANE for SMTP (RFC 7672):
// which TLSA records are usable, and what the DNS answers about one MX
// host mean for its delivery. No Asio, no OpenSSL, no I/O: unit-tested
// with every combination of answers (tests/unit/tlspolicy/dane_test.cpp).
//
// The I/O half (the lookups, arming OpenSSL's DANE verifier, the verdict
// after the handshake) is tlspolicy/dane.hpp.
//
// SECURITY: the inputs are DNS answers an attacker may have forged; only
// answers the resolver authenticated (DNSSEC "secure") can switch DANE on,
// and a failed lookup for a host whose addresses are signed defers
// delivery rather than dropping to a weaker level (downgrade resistance,
// RFC 7672 §2.2).
// RFCs: 7672 (SMTP DANE), 7671 (DANE operational updates), 6698 (TLSA).
#pragma once

#include <string>
#include <vector>

#include "conf/config.hpp"
#include "relay/core/dns_rdata.hpp"

namespace mxgate::tlspolicy {

// TLSA certificate usages (RFC 6698 §2.1.1, RFC 7218 mnemonics).
namespace tlsa_usage {
inline constexpr uint8_t pkix_ta = 0, pkix_ee = 1, dane_ta = 2, dane_ee = 3;
}

// RFC 7672 §3.1: usages 0 and 1 are unusable for SMTP (no shared trust
// anchors between MTAs); usage 2/3 with selector 0/1 and matching type
// 0/1/2 whose data has the right length (32 for SHA2-256, 64 for SHA2-512,
// non-empty for full data) is usable.
bool tlsa_usable(const core::TlsaRecord& r);

// "3 1 1 <hex>" (presentation format, lower-case hex) for events and docs.
std::string tlsa_text(const core::TlsaRecord& r);

// What DANE means for one MX host.
enum class DaneState {
    none,             // no DANE: the host's addresses or its TLSA records are
                      // unsigned, or a signed denial says there are none
    authenticated,    // usable TLSA records: TLS mandatory, DANE-verified
    unauthenticated,  // signed TLSA records, none usable: TLS mandatory
                      // without authentication (RFC 7672 §2.2)
    defer,            // a lookup failed where a signed answer was expected:
                      // do not deliver to this host now (RFC 7672 §2.2)
};
const char* dane_state_name(DaneState s);

// The outcome of one DNS lookup as DANE needs it.
enum class Answer { records, nxdomain, nodata, failed };

struct DaneAnswers {
    Answer address = Answer::failed;        // the host's A (or AAAA) lookup
    bool address_secure = false;
    Answer tlsa = Answer::failed;           // _25._tcp.<base domain> TLSA
    bool tlsa_secure = false;
    std::vector<core::TlsaRecord> tlsa_records;
    std::string error;                      // why a lookup failed, if one did
};

struct DanePlan {
    DaneState state = DaneState::none;
    std::string host;          // the MX host name
    std::string base_domain;   // the TLSA base domain (host, or its secure CNAME target)
    std::vector<core::TlsaRecord> usable;   // for authenticated
    size_t unusable = 0;       // records ignored as unusable
    std::string reason;        // one sentence, for events and the defer text

    // TLS must be used, never plaintext.
    bool tls_required() const { return state == DaneState::authenticated || state == DaneState::unauthenticated; }
    // Names a DANE-TA certificate must carry (RFC 7672 §3.2.2): the base
    // domain and the MX host name when they differ.
    std::vector<std::string> reference_names() const;
};

// The decision for `host` from the answers about `base_domain`.
DanePlan decide_dane(const std::string& host, const std::string& base_domain, const DaneAnswers& a);

// Whether to look up TLSA records for a destination whose effective level
// is `level`: always for `dane`, for every level but `none` with use_dane.
bool dane_wanted(conf::OutboundLevel level, bool use_dane);

// What a host's DANE plan does to the level the destination would
// otherwise get (SPEC §7: DANE takes precedence over MTA-STS; RFC 8461 §2).
enum class DaneAction {
    keep_level,     // no DANE for this host: deliver as `level` says
    dane_verify,    // TLS mandatory, certificate must match a usable TLSA record
    encrypt,        // TLS mandatory, no authentication (unusable records)
    defer,          // do not deliver to this host now
};
struct DaneEffect {
    DaneAction action = DaneAction::keep_level;
    std::string reason;
};
// level `dane` without DANE for the host is a mandatory level that failed:
// defer. Any other level: the host's DANE state wins when it has one.
DaneEffect dane_effect(conf::OutboundLevel level, const DanePlan& plan);

}  // namespace mxgate::tlspolicy
