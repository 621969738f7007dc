// relay/smtp/recipient_policy.hpp — may this forward-path be accepted on
// the mx listener? (SPEC §4 "Never an open relay".)
//
// Interface: check_recipient(config, path) → RecipientDecision:
//   accept        the path names a known recipient of an owner domain;
//                 `domain` is that Domain entry (where it goes downstream)
//   relay_denied  554 5.7.1 Relay access denied: the domain is not an owner
//                 domain, or the address uses any open-relay form
//                 (address_class.hpp) — for owner domains too
//   unknown_user  550 5.1.1 User unknown: owner domain, local part not in
//                 its `recipients` (exact "local@domain" entries and
//                 "@domain" wildcards, stored lower-case by conf)
//
// Matching (as Postfix does by default): the domain compares
// case-insensitively, the local part exactly but ASCII-case-insensitively;
// a quoted local part compares in its decoded form ("alice"@ = alice@).
// "<postmaster>" without domain goes to the first owner domain, and
// postmaster@<owner domain> is always accepted (RFC 5321 §4.5.1: MUST).
// An empty `recipients` list accepts nobody (strict default).
//
// The owner domain is found by scanning config.domains directly (not
// Config::find_domain) so this file stays pure and links into the fuzzers
// without conf's sources.
//
// SECURITY: the path is peer input; this is the open-relay guard. Any new
// address form must be classified in address_class before it can pass.
#pragma once

#include <cstdint>

#include "conf/config.hpp"
#include "relay/core/reply.hpp"
#include "relay/smtp/command.hpp"

namespace mxgate::smtp {

struct RecipientDecision {
    enum class Kind { accept, relay_denied, unknown_user };
    Kind kind = Kind::relay_denied;
    const conf::Domain* domain = nullptr;  // accept: the owner domain entry
    core::Reply reply;                     // 250 2.1.5 / 554 5.7.1 / 550 5.1.1
    uint32_t relay_forms = 0;              // relay_form:: bits that caused a denial
    bool accepted() const { return kind == Kind::accept; }
};

RecipientDecision check_recipient(const conf::Config& config, const Path& path);

}  // namespace mxgate::smtp
