// dmarc/dkim_sign.hpp — DKIM signing (RFC 6376) of outbound mail from the
// owner's domains with domains[].dkim, through OpenDKIM's library.
//
// Where: at delivery to the internet (relay/queue/smtp_courier.cpp, MX
// routes only), not at acceptance. The spool keeps the message exactly as
// received; each delivery attempt signs what it sends (prepend + body), so
// a key rotated by SIGHUP applies to queued mail too, and mail for the
// owner's domains going downstream is never signed. docs/dkim-signing.md.
//
// Which domain signs: the domain of the From: header (DMARC alignment,
// RFC 7489 §3.1.1), if it is an owner domain with a `dkim` entry. Nothing
// else is signed.
//
// Blocking and CPU-bound (RSA): call sign_message on the blocking pool
// (core::offload), never on the I/O thread.
//
// SECURITY: the message is attacker-influenced (submission users write it);
// header scanning is bounded by the header block and never reads past the
// input. The private key is read per signature from `key` and never logged.
// From: is over-signed so that a From: added later breaks the signature.
// RFCs: 6376 (DKIM), 8463 (Ed25519 keys are not supported by libopendkim
// 2.11: RSA only), 5322 (header fields).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "conf/config.hpp"

namespace mxgate::dmarc {

// The author domain of the message's From: header (dmarc/author.hpp's
// rules), lower-case; "" when find_author refuses the From: or it names
// more than one domain. `message` is a header block, optionally followed by
// the body.
std::string from_header_domain(std::string_view message);

// The owner domain whose key signs this message, or nullptr.
const conf::Domain* dkim_signer_for(const conf::Config& cfg, std::string_view prepend, std::string_view body);

// "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; ...\r\n" over
// prepend + body (CRLF lines, not dot-stuffed), signed with the domain's
// key; nullopt + error (names the key file, never its contents) on failure.
std::optional<std::string> sign_message(const conf::Domain& domain, std::string_view prepend,
                                        std::string_view body, std::string& error);

}  // namespace mxgate::dmarc
