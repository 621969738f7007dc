// relay/smtp/replies.hpp — every reply the SMTP server sends, in one table,
// so the session never spells reply text or status codes itself.
//
// Interface: functions in mxgate::smtp::replies returning core::Reply.
// Every reply except the greeting and the HELO/EHLO reply carries an
// enhanced status code (RFC 2034 §4, RFC 3463; SPEC §4). The mappings from
// parser results — frame_error(), parse_error(), data_verdict() — live here
// too, so one file decides every code.
//
// SECURITY: arguments that end up in reply text (host names, queue ids,
// DNSBL zones, parser details) are stripped of CR, LF and other control
// octets, so a reply can never be split into two.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/core/reply.hpp"
#include "relay/smtp/command.hpp"
#include "relay/smtp/data_reader.hpp"
#include "relay/smtp/line_framer.hpp"

namespace mxgate::smtp::replies {

using core::Reply;

// What EHLO advertises (RFC 5321 §4.1.1.1). One predicate in the session
// should decide both advertising and accepting each extension.
struct EhloCaps {
    bool pipelining = true;              // RFC 2920
    std::optional<uint64_t> size;        // RFC 1870: "SIZE n"; nullopt = not offered
    bool etrn = false;                   // RFC 1985
    bool starttls = false;               // RFC 3207 (offered before TLS only)
    std::vector<std::string> auth;       // RFC 4954 mechanisms; empty = no AUTH line
    bool enhanced_status_codes = true;   // RFC 2034
    bool eight_bit_mime = true;          // RFC 6152
    bool smtputf8 = true;                // RFC 6531
    bool chunking = true;                // RFC 3030
    bool dsn = true;                     // RFC 3461
    bool requiretls = false;             // RFC 8689 (after TLS only; session decides)
};

// --- greeting, HELO/EHLO (no enhanced codes) ---
Reply greeting(std::string_view hostname);                         // 220 host ESMTP mxgate
Reply helo(std::string_view hostname);                             // 250 host
Reply ehlo(std::string_view hostname, const EhloCaps& caps);       // 250-host / 250-PIPELINING ...

// --- positive ---
Reply ok();                                  // 250 2.0.0 Ok          (NOOP, RSET)
Reply sender_ok();                           // 250 2.1.0 Ok
Reply recipient_ok();                        // 250 2.1.5 Ok
Reply queued(std::string_view queue_id);     // 250 2.0.0 Ok: queued as ID
Reply bdat_ok(uint64_t octets);              // 250 2.0.0 Ok: N octets received
Reply start_data();                          // 354 2.0.0 End data with <CR><LF>.<CR><LF>
Reply bye();                                 // 221 2.0.0 Bye
Reply help();                                // 214 2.0.0 ...
Reply vrfy_not_verified();                   // 252 2.5.2 Cannot VRFY user (RFC 5321 §3.5.3)
Reply starttls_ready();                      // 220 2.0.0 Ready to start TLS
Reply auth_success();                        // 235 2.7.0 Authentication successful
Reply etrn_started();                        // 250 2.0.0 Queuing started (RFC 1985 §5)

// --- command-level errors ---
Reply frame_error(FrameStatus s);            // 500 5.5.2 (too long, NUL, bare CR/LF)
Reply parse_error(const ParseResult& r);     // 500 5.5.1 / 501 5.5.4 / 501 5.1.3 / 501 5.1.7 / 555 5.5.4
Reply not_implemented(Verb v);               // 502 5.5.1 Command not implemented
Reply need_helo();                           // 503 5.5.1 Error: send HELO/EHLO first
Reply auth_needs_ehlo();                     // 503 5.5.1 Error: send EHLO first (AUTH after HELO)
Reply need_mail();                           // 503 5.5.1 Error: need MAIL command
Reply need_rcpt();                           // 503 5.5.1 Error: need RCPT command
Reply nested_mail();                         // 503 5.5.1 Error: nested MAIL command
Reply bdat_data_mixed();                     // 503 5.5.1 DATA and BDAT cannot be mixed (RFC 3030 §2)
Reply no_valid_recipients();                 // 554 5.5.1 Error: no valid recipients
Reply smtputf8_required();                   // 553 5.6.7 (RFC 6531 §3.5) non-ASCII address without SMTPUTF8
Reply size_exceeded_declared();              // 552 5.3.4 (SIZE= above the limit, RFC 1870 §6)

// --- TLS and authentication (SPEC §5) ---
Reply tls_not_available();                   // 454 4.7.0 TLS not available due to temporary reason
Reply tls_already_active();                  // 503 5.5.1 TLS already active
Reply starttls_first();                      // 530 5.7.0 Must issue a STARTTLS command first
Reply auth_required();                       // 530 5.7.0 Authentication required
Reply encryption_required();                 // 538 5.7.11 Encryption required (RFC 4954 §6)
// RFC 8689 (docs/requiretls.md): MAIL ... REQUIRETLS on a plaintext session;
// on a TLS session where REQUIRETLS was not advertised (RFC 5321 §4.1.1.11:
// 555 for a parameter not offered; X.7.30 names the reason); RCPT of a
// REQUIRETLS transaction to a domain whose downstream cannot honour it.
Reply requiretls_needs_tls();                // 530 5.7.10 REQUIRETLS needs a TLS session: STARTTLS first
Reply requiretls_not_offered();              // 555 5.7.30 REQUIRETLS not supported here
Reply requiretls_rcpt_refused();             // 550 5.7.30 REQUIRETLS cannot be honoured for this recipient
Reply auth_not_available();                  // 503 5.5.1 AUTH not available (mx listener)
Reply already_authenticated();               // 503 5.5.1 Already authenticated
Reply auth_mechanism_unsupported();          // 504 5.5.4 Unrecognized authentication type
Reply auth_invalid();                        // 535 5.7.8 Authentication credentials invalid
Reply auth_temporary_failure();              // 454 4.7.0 Temporary authentication failure (also lockout)
Reply auth_cancelled();                      // 501 5.7.0 Authentication cancelled (RFC 4954 §4 "*")
Reply auth_bad_base64();                     // 501 5.5.2 Cannot decode response (RFC 4954 §4)
Reply auth_challenge(std::string_view b64);  // 334 <base64 challenge> (no enhanced code)
Reply auth_in_transaction();                 // 503 5.5.1 AUTH during a mail transaction (RFC 4954 §4)
Reply auth_locked();                         // 454 4.7.0 locked user or client address (SPEC §5)
Reply sender_not_owned();                    // 553 5.7.1 Sender address not owned by user
Reply require_tls();                         // 530 5.7.0 Must issue a STARTTLS command first (require_tls)

// --- recipients and relay control (SPEC §4) ---
Reply relay_denied();                        // 554 5.7.1 Relay access denied
Reply user_unknown();                        // 550 5.1.1 User unknown
Reply too_many_recipients();                 // 452 4.5.3 Too many recipients

// --- message content (end of data) ---
// The first violation in SPEC order: 552 5.3.4 size, 550 5.6.0 malformed
// (bare CR/LF, NUL, long line), 554 5.4.6 loop; nullopt when acceptable.
std::optional<Reply> data_verdict(const DataReport& report);
Reply message_too_big();                     // 552 5.3.4 Message size exceeds fixed limit
Reply mail_loop();                           // 554 5.4.6 Too many Received headers: mail loop
Reply header_too_big();                      // 552 5.3.4 header block over the checks' cap (mx)

// --- inbound sender authentication at end of data (SPEC §6; reason in the text) ---
Reply author_rejected(std::string_view reason);    // 550 5.7.1 From: header rules
Reply dmarc_rejected(std::string_view reason);     // 550 5.7.1 DMARC policy
Reply spf_rejected(std::string_view reason);       // 550 5.7.23 SPF fail without aligned DKIM
Reply spoofing_rejected(std::string_view reason);  // 550 5.7.1 owner's domain claimed, not authenticated

// --- connection-level ---
Reply too_many_connections();                // 421 4.7.0 Too many connections, try again later
Reply timeout();                             // 421 4.4.2 Timeout exceeded
Reply shutting_down();                       // 421 4.3.2 Service shutting down
Reply greylisted();                          // 451 4.7.1 Greylisted, try again later
Reply dnsbl_listed(std::string_view zone);   // 554 5.7.1 Client host blocked using ZONE
Reply local_error();                         // 451 4.3.0 Local error in processing
Reply checks_busy();                         // 451 4.3.2 SPF/DKIM/DMARC check pool full: try again later
Reply policy_temporary_failure(std::string_view reason);  // 451 4.7.0 reason (e.g. DNS)

}  // namespace mxgate::smtp::replies
