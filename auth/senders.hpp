// auth/senders.hpp — sender binding (SPEC §5): an authenticated user may use
// as MAIL FROM and in the From: header only the addresses `auth.senders`
// grants it: an exact address, or "@domain" for every address at exactly
// that domain (not its subdomains). A user without an entry may send as
// nobody (the strict default).
//
// Matching: domain ASCII-case-insensitive; local part ASCII-case-insensitive
// too (entries are stored lower-case by conf), as the recipient policy does.
//
// SECURITY: the address is the client's claim; this is what stops a user
// from sending as someone else.
#pragma once

#include <string_view>

#include "conf/config.hpp"

namespace mxgate::auth {

bool sender_allowed(const conf::AuthConfig& cfg, std::string_view user, std::string_view address);

}  // namespace mxgate::auth
