// relay/smtp/address_class.hpp — flags the address forms that open-relay
// probes use to make a relay forward mail elsewhere.
//
// Interface: classify_relay(path) returns a bit set of relay_form::; 0 means a
// plain "local@domain" with a DNS domain. Recipient policy refuses any
// non-zero result with 554 5.7.1, whatever the domain, because the next hop
// (the home box, or an old MTA behind it) may interpret these forms as
// routing instructions:
//   percent_hack    "user%other@owner"            (RFC 1123 §5.2.16 legacy routing)
//   bang_path       "other!user@owner"            (UUCP, RFC 976)
//   quoted_routing  "\"user@other\"@owner" — a quoted local part holding
//                   '@', '%' or '!'
//   source_route    "@owner:user@other"           (RFC 5321 §4.1.2, Appendix C)
//   address_literal "user@[192.0.2.1]"            (§4.1.3)
//   trailing_dot    "user@other.example."
//   no_domain       "user" or "user@" (anything unqualified but <postmaster>)
//
// SECURITY: this is the guard against being an open relay; keep it a pure
// function of the parsed path and extend the table, never special-case.
#pragma once

#include <cstdint>

#include "relay/smtp/command.hpp"

namespace mxgate::smtp {

// Bits of the classify_relay() result.
namespace relay_form {
enum : uint32_t {
    none = 0,
    percent_hack = 1u << 0,
    bang_path = 1u << 1,
    quoted_routing = 1u << 2,
    source_route = 1u << 3,
    address_literal = 1u << 4,
    trailing_dot = 1u << 5,
    no_domain = 1u << 6,
};
}  // namespace relay_form

uint32_t classify_relay(const Path& path);

// Comma-separated names of the set flags ("percent_hack,source_route"), for logs.
std::string relay_form_names(uint32_t forms);

}  // namespace mxgate::smtp
