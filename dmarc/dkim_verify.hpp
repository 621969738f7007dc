// dmarc/dkim_verify.hpp — DKIM verification (RFC 6376) with libopendkim,
// key lookups through mxgate's Resolver.
//
// Interface: verify_dkim(dns, message) evaluates every DKIM-Signature of a
// message (the bytes as spooled: CRLF lines, dots unstuffed, without the
// headers mxgate prepends) and returns one DkimVerdict per signature, in
// header order; an unsigned message gives an empty list. Blocking: run it
// on the check pool (dmarc/checks.hpp).
//
// Rules:
//   - key records are fetched with dkim_set_key_lookup → BlockingDns (TXT
//     at <s>._domainkey.<d>), so dns.resolver governs them; a temporary
//     DNS failure makes that signature temperror, never fail or pass;
//   - a signature whose l= leaves part of the body unsigned verifies but
//     counts as no signature (SPEC §6): result policy, covers_body=false;
//   - at most kMaxDkimSignatures signatures are evaluated, the top-most
//     (RFC 6376 §6.1 allows a limit): each costs a key lookup and hashing,
//     and a message could carry thousands. The rest are summed up in one
//     last verdict: not_evaluated = N, result policy, empty domain,
//     covers_body=false (so it never aligns), error "N more signatures not
//     evaluated";
//   - a header field present twice is matched bottom-up (RFC 6376 §5.4.2),
//     as libopendkim does; an extra unsigned instance above the signed one
//     does not break the signature, one below it does.
//
// SECURITY: the message and the key records are attacker-controlled;
// libopendkim parses both. Nothing of the message body goes into a verdict.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "dmarc/blocking_dns.hpp"
#include "dmarc/verdicts.hpp"

namespace mxgate::dmarc {

inline constexpr size_t kMaxDkimSignatures = 10;

DkimVerdicts verify_dkim(const BlockingDns& dns, std::string_view message);

// The same over a message read in blocks (the spool file, so a session never
// holds the message in memory): next(block) sets the next bytes, empty at
// the end, and returns false when the message cannot be read (every
// signature is then unknown: one temperror verdict).
using MessageBlocks = std::function<bool(std::string& block)>;
DkimVerdicts verify_dkim_blocks(const BlockingDns& dns, const MessageBlocks& next);

}  // namespace mxgate::dmarc
