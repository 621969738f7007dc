// relay/spool/dsn.hpp — delivery status notifications ("bounces" and delay
// warnings) as complete RFC 5322 messages, built from a spooled envelope.
//
// Interface: make_dsn() renders the message; should_bounce() says whether
// a failed message may get one at all; dsn_returns_full_message() tells
// the caller whether to read the whole body or only the header section.
// The caller queues the result with the null sender <> (RFC 5321 §4.5.5)
// to the original sender, setting body_8bit/smtputf8 from the result.
//
// Shape (RFC 6522 multipart/report, RFC 3464 delivery-status):
//   headers: From MAILER-DAEMON, To <sender>, Subject, Date, Message-ID,
//            Auto-Submitted: auto-replied (RFC 3834 §5), MIME-Version,
//            Content-Type: multipart/report; report-type=delivery-status
//   part 1   text/plain: what happened, one paragraph per recipient
//   part 2   message/delivery-status: per-message fields (Reporting-MTA,
//            Original-Envelope-Id, Arrival-Date), then per recipient
//            Final-Recipient, Original-Recipient, Action, Status,
//            Remote-MTA, Diagnostic-Code, Last-Attempt-Date,
//            Will-Retry-Until (RFC 3464 §2.2, §2.3)
//   part 3   text/rfc822-headers, or message/rfc822 when the sender asked
//            RET=FULL on a failure (RFC 3461 §4.3; delays always return
//            headers only, as Postfix does; a REQUIRETLS message always
//            headers only, RFC 8689 §5)
// For SMTPUTF8 mail the message/global-* types and "utf-8" address type
// of RFC 6533 are used instead.
//
// Not done here: dot-stuffing (the SMTP client's job), NOTIFY= (the caller
// picks the recipients whose NOTIFY asks for this kind).
//
// SECURITY: remote reply text and addresses come from other servers and
// end up in header-like fields: CR, LF and other control characters are
// replaced and long lines folded, so a remote reply cannot add a field or
// a MIME boundary; the boundary is checked against the returned content.
// Pure: no I/O, no clock (the caller passes `now`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/spool/spool.hpp"

namespace mxgate::spool {

// failure and delay: RFC 3464 "failed"/"delayed". Success notices (NOTIFY=
// SUCCESS, RFC 3461 §6.2.3): relayed = handed to a next hop that does not
// offer DSN (no further notice can come from it), delivered = final
// delivery (LMTP). Success notices return the header section only.
enum class DsnKind { failure, delay, relayed, delivered };

struct DsnRecipient {
    std::string address;        // as in RCPT TO (Final-Recipient)
    std::string orcpt;          // ORCPT= value "addr-type;address", or ""
    std::string status;         // RFC 3463 "5.1.1"; "" = derive from reply
    std::string reply;          // remote reply ("550 5.1.1 No such user",
                                // may be multi-line) or a local reason
    std::string remote_mta;     // host that gave the reply, or ""
    int64_t last_attempt = 0;   // unix seconds; 0 = not reported
};

// RET=FULL returns the whole message only up to this size (Postfix's
// bounce_size_limit default); above it, the header section.
inline constexpr size_t kDsnFullMessageLimit = 50000;

struct DsnRequest {
    DsnKind kind = DsnKind::failure;
    std::string reporting_mta;          // our hostname
    int64_t now = 0;                    // unix seconds, for Date:
    int64_t retry_until = 0;            // delay only: Will-Retry-Until (0 = omit)
    std::vector<DsnRecipient> recipients;
    // The original message as queued (prepend + body), or at least its
    // header section; the header section is cut out here.
    std::string_view original;
};

struct Dsn {
    std::string message;    // CRLF line ends, not dot-stuffed
    bool body_8bit = false; // needs 8BITMIME to send
    bool smtputf8 = false;  // needs SMTPUTF8 to send
};

// False for the null sender and for MAILER-DAEMON senders: a bounce is
// never bounced (RFC 5321 §4.5.5, RFC 3464 §2 "MUST NOT").
bool should_bounce(const Envelope& env);

// True when make_dsn() will include the whole original message.
bool dsn_returns_full_message(const Envelope& env, DsnKind kind);

Dsn make_dsn(const Envelope& env, const DsnRequest& req);

// The status code make_dsn() reports for a recipient: rcpt.status if set,
// else the enhanced code in the reply, else the reply's class ("5.0.0" /
// "4.0.0"), else by kind.
std::string dsn_status(const DsnRecipient& rcpt, DsnKind kind);

}  // namespace mxgate::spool
