// tlspolicy/dane_rules.cpp — usable TLSA records and the per-host DANE
// decision (dane_rules.hpp). Pure functions.
#include "tlspolicy/dane_rules.hpp"

namespace mxgate::tlspolicy {

bool tlsa_usable(const core::TlsaRecord& r) {
    if (r.usage != tlsa_usage::dane_ta && r.usage != tlsa_usage::dane_ee) return false;
    if (r.selector > 1) return false;
    switch (r.matching_type) {
        case 0: return !r.data.empty();
        case 1: return r.data.size() == 32;   // SHA2-256
        case 2: return r.data.size() == 64;   // SHA2-512
        default: return false;
    }
}

std::string tlsa_text(const core::TlsaRecord& r) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = std::to_string(r.usage) + " " + std::to_string(r.selector) + " " +
                      std::to_string(r.matching_type) + " ";
    for (unsigned char c : r.data) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

const char* dane_state_name(DaneState s) {
    switch (s) {
        case DaneState::none: return "none";
        case DaneState::authenticated: return "authenticated";
        case DaneState::unauthenticated: return "unauthenticated";
        case DaneState::defer: return "defer";
    }
    return "?";
}

std::vector<std::string> DanePlan::reference_names() const {
    std::vector<std::string> out{base_domain};
    if (!host.empty() && host != base_domain) out.push_back(host);
    return out;
}

DanePlan decide_dane(const std::string& host, const std::string& base_domain, const DaneAnswers& a) {
    DanePlan p;
    p.host = host;
    p.base_domain = base_domain;
    const std::string tlsa_name = "_25._tcp." + base_domain;

    // RFC 7672 §2.2.2: TLSA records are only looked for when the host's
    // address records are secure. An address lookup that failed gives no
    // address to connect to anyway: the connection attempt decides.
    if (a.address == Answer::failed) {
        p.reason = "address lookup for " + host + " failed" + (a.error.empty() ? "" : ": " + a.error);
        return p;
    }
    if (a.address != Answer::records) {
        p.reason = host + " has no address records";
        return p;
    }
    if (!a.address_secure) {
        p.reason = "address records of " + host + " are not DNSSEC-signed";
        return p;
    }
    // RFC 7672 §2.2: with signed addresses, a TLSA lookup that fails (a
    // SERVFAIL, a bogus signature, a timeout) may be an attacker
    // suppressing the records. Do not deliver to this host now.
    if (a.tlsa == Answer::failed) {
        p.state = DaneState::defer;
        p.reason = "TLSA lookup for " + tlsa_name + " failed" + (a.error.empty() ? "" : ": " + a.error);
        return p;
    }
    if (a.tlsa != Answer::records) {
        p.reason = std::string(a.tlsa_secure ? "signed denial: " : "") + "no TLSA records at " + tlsa_name;
        return p;
    }
    // RFC 7672 §2.2: insecure TLSA records are ignored.
    if (!a.tlsa_secure) {
        p.reason = "TLSA records at " + tlsa_name + " are not DNSSEC-signed (ignored)";
        return p;
    }
    for (const core::TlsaRecord& r : a.tlsa_records) {
        if (tlsa_usable(r))
            p.usable.push_back(r);
        else
            ++p.unusable;
    }
    if (p.usable.empty()) {
        p.state = DaneState::unauthenticated;
        p.reason = "signed TLSA records at " + tlsa_name + " but none usable: TLS without authentication";
        return p;
    }
    p.state = DaneState::authenticated;
    p.reason = std::to_string(p.usable.size()) + " usable signed TLSA record(s) at " + tlsa_name;
    return p;
}

bool dane_wanted(conf::OutboundLevel level, bool use_dane) {
    if (level == conf::OutboundLevel::dane) return true;
    return use_dane && level != conf::OutboundLevel::none;
}

DaneEffect dane_effect(conf::OutboundLevel level, const DanePlan& plan) {
    DaneEffect e;
    e.reason = plan.reason;
    switch (plan.state) {
        case DaneState::authenticated: e.action = DaneAction::dane_verify; return e;
        case DaneState::unauthenticated: e.action = DaneAction::encrypt; return e;
        case DaneState::defer: e.action = DaneAction::defer; return e;
        case DaneState::none:
            if (level == conf::OutboundLevel::dane) {
                // A mandatory level that cannot be met defers (SPEC §7).
                e.action = DaneAction::defer;
                e.reason = "level dane requires DANE, but " + plan.reason;
                return e;
            }
            e.action = DaneAction::keep_level;
            return e;
    }
    return e;
}

}  // namespace mxgate::tlspolicy
