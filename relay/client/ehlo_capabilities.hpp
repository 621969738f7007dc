// relay/client/ehlo_capabilities.hpp — what a server's EHLO/LHLO reply
// offers (RFC 5321 §4.1.1.1: the first line is the greeting, each further
// line one "keyword [params]").
//
// Keywords are case-insensitive (RFC 5321 §2.4). Recognised: STARTTLS
// (RFC 3207), SIZE [limit] (RFC 1870), PIPELINING (RFC 2920), 8BITMIME
// (RFC 6152), SMTPUTF8 (RFC 6531), CHUNKING (RFC 3030),
// ENHANCEDSTATUSCODES (RFC 2034), DSN (RFC 3461), REQUIRETLS (RFC 8689), AUTH mech... (RFC 4954,
// also the pre-standard "AUTH=mech..." form some servers still send).
// Unknown keywords are ignored.
//
// SECURITY: the reply is untrusted. Mechanism names are kept only when they
// are valid SASL names (RFC 4422 §3.1: 1..20 of A-Z 0-9 '-' '_'), upper-cased,
// at most 32 of them; a SIZE value that is not a number (or overflows)
// counts as "SIZE offered, no limit known". Pure and fuzzed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/core/reply.hpp"

namespace mxgate::client {

struct EhloCapabilities {
    bool starttls = false;
    bool size = false;
    uint64_t size_limit = 0;   // 0 = no limit given
    bool pipelining = false;
    bool eightbitmime = false;
    bool smtputf8 = false;
    bool chunking = false;
    bool enhancedstatuscodes = false;
    bool dsn = false;
    bool requiretls = false;   // meaningful only in the EHLO reply after TLS (RFC 8689 §2)
    std::vector<std::string> auth;   // upper-case SASL mechanism names

    bool has_auth(std::string_view mech) const;
};

// Parses a positive EHLO/LHLO reply (lines as core::Reply holds them).
EhloCapabilities parse_ehlo(const core::Reply& reply);

}  // namespace mxgate::client
