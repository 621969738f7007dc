// relay/smtp/smtp.hpp — the server side of SMTP as pure functions: the one
// public header of relay/smtp/ (the session coroutine lives elsewhere and
// only turns these results into I/O).
//
// Pieces, one file each (no Asio/Boost anywhere: the fuzz build compiles
// these files alone):
//   line_framer.hpp      CRLF-only command lines, 512-octet limit, resync
//                        after a bad line                 (RFC 5321 §2.3.8, §4.5.3.1.4)
//   command.hpp          parse_command(): verb + typed arguments; paths,
//                        ESMTP parameters, BDAT/ETRN/AUTH/HELO  (§4.1.1, §4.1.2)
//   address_class.hpp    classify_relay(): %-hack, bang paths, quoted
//                        routing, source routes, literals, trailing dots
//   recipient_policy.hpp check_recipient(): accept / 554 5.7.1 / 550 5.1.1
//   data_reader.hpp      DataReader: DATA unstuffing to CRLF.CRLF only, or
//                        BDAT chunks; bare CR/LF, NUL, line length, size,
//                        Received: loop count, 8-bit detection   (§4.1.1.4, §4.5.2)
//   replies.hpp          replies::*: every reply text and enhanced code
//
// Typical use in a session:
//   LineFramer framer;
//   Frame f = framer.next(buf);            // need_more → read; error → reply
//   if (f.status == FrameStatus::line) {
//       ParseResult p = parse_command(f.line);   // use f.line before erasing
//       ... p.ok() ? dispatch(p.command) : send(replies::parse_error(p));
//   }
//   buf.erase(0, f.consumed);
//
// SECURITY: everything here handles untrusted peer bytes; see each header's
// note. docs/smtp-parsing.md explains the framing and smuggling rules.
#pragma once

#include "relay/smtp/address_class.hpp"
#include "relay/smtp/command.hpp"
#include "relay/smtp/data_reader.hpp"
#include "relay/smtp/line_framer.hpp"
#include "relay/smtp/recipient_policy.hpp"
#include "relay/smtp/replies.hpp"
