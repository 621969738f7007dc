// auth/auth.hpp — SMTP AUTH for the submission listeners (SPEC §5).
//
// Pieces (one header each):
//   base64.hpp, sasl_response.hpp  pure decoding of the client's responses
//                                  and of a PLAIN message (fuzzed)
//   sasl_server.hpp                the Cyrus SASL server exchange
//   lockout.hpp                    failures per user and per client address
//   networks.hpp                   /24 and /64 networks, auth.networks and
//                                  auth.deny_networks
//   senders.hpp                    auth.senders: who may send as whom
//   service.hpp                    the shared state: SASL pool, lockouts,
//                                  cleartext-exposure locks, networks seen
//   user_db.hpp                    `mxgate user` on the configured sasldb
//
// The SMTP side (AUTH command, 530/538 before TLS, MAIL/RCPT rules) lives in
// relay/server/session_auth.cpp.
//
// SECURITY: passwords and AUTH payloads pass through here; none of them is
// ever put in a log line, an event or the spool.
//
// RFCs: 4954 (SMTP AUTH), 4422 (SASL), 4616 (PLAIN), 7677 (SCRAM-SHA-256),
// 8314 (implicit TLS for submission), 4648 (base64).
#pragma once

#include "auth/base64.hpp"
#include "auth/lockout.hpp"
#include "auth/networks.hpp"
#include "auth/sasl_response.hpp"
#include "auth/sasl_server.hpp"
#include "auth/senders.hpp"
#include "auth/service.hpp"
#include "auth/user_db.hpp"
