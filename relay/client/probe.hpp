// relay/client/probe.hpp — `mxgate probe`: audit a mail server's transport
// security and downgrade exposure (SPEC §8), as a library the CLI drives.
//
// Interface:
//   probe::Options o; o.host = "mx.example.org"; o.port = 25; ...
//   probe::Report r = co_await probe::run(executor, resolver, o);
//   (relay/cli/probe.cpp prints it as text or JSON)
//   exit code: r.failed() ? 1 : 0
//
// The prober connects like a sending server (or like a mail client with
// `submission`: 587 STARTTLS, 465 implicit TLS) and records one Check per
// question, each PASS/WARN/FAIL (or SKIP when it could not be asked) with
// the evidence it saw: the reply, the negotiated version and cipher, the
// OpenSSL error. Every TLS version and every weak cipher class is tried on
// its own connection with a client context that offers only that version
// or class (at OpenSSL security level 0, the only way an OpenSSL 3 client
// can still offer TLS 1.0/1.1 or SHA-1 handshakes at all). Classes this
// OpenSSL build cannot offer (RC4, 3DES, export on Debian 12) are SKIPped
// and say so. With `domain`: MTA-STS TXT + policy (the outbound module's
// parsers and HTTPS fetch, tlspolicy/mta_sts*.hpp), the domain's MX hosts against the policy, DANE TLSA for
// HOST against the served certificate, and the TLS-RPT record.
//
// Files: probe_session.cpp (connections), probe_plaintext.cpp (STARTTLS,
// AUTH before TLS, command injection, bare-LF smuggling), probe_tls.cpp
// (versions, cipher classes, certificate), probe_domain.cpp (MTA-STS,
// MX, DANE, TLS-RPT; the MTA-STS and TLS-RPT parsing and the policy fetch
// are tlspolicy's: mta_sts.hpp, mta_sts_client.hpp, tlsrpt_record.hpp).
//
// SECURITY: everything the server and DNS return is untrusted: replies go
// through the bounded ReplyParser, records and the policy through the pure,
// fuzzed parsers in tlspolicy/ (mta_sts.hpp, tlsrpt_record.hpp), and evidence text is sanitised (printable
// ASCII, bounded) before it is printed. The prober never sends credentials:
// "AUTH accepted before TLS" is asked with a bare `AUTH MECH` and cancelled
// with "*" after a 334. Messages are sent only for the bare-LF test, which
// needs an explicit recipient (Options::smuggling_rcpt).
// RFCs: 3207 (STARTTLS, §4.2 injection), 4954 (AUTH), 5321 §4.1.1.4 (end
// of data), 8461 (MTA-STS), 7672 + 6698 (DANE), 8460 (TLS-RPT), 6125.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "relay/client/client.hpp"
#include "relay/core/resolver.hpp"

namespace mxgate::client::probe {

enum class Status { pass, warn, fail, skip };
const char* status_name(Status s);  // "PASS", "WARN", "FAIL", "SKIP"

struct Check {
    std::string id;        // stable key, e.g. "tls.version.TLSv1"
    std::string title;     // "TLSv1 accepted"
    Status status = Status::skip;
    std::string evidence;  // what was seen (sanitised)
};

struct Options {
    std::string host;                  // name or IP literal
    uint16_t port = 25;
    bool submission = false;
    bool implicit_tls = false;         // TLS from the first byte (465)
    std::optional<std::string> domain; // --domain: MTA-STS, MX, DANE, TLS-RPT
    std::vector<std::string> names;    // certificate names expected; empty = host
    std::string ehlo_name = "probe.invalid";
    std::string ca_file = "system";    // trust store (tls.ca_file)
    std::optional<std::string> smuggling_rcpt;  // bare-LF test recipient
    std::string smuggling_sender;      // MAIL FROM for it ("" = <>)
    ClientTimeouts timeouts;           // per wait; the CLI shortens them
    std::chrono::milliseconds injection_wait{3000};  // quiet time after TLS
};

struct Report {
    std::string target;          // "host[ip]:port"
    std::vector<Check> checks;
    bool failed() const;
    int count(Status s) const;
};

boost::asio::awaitable<Report> run(boost::asio::any_io_executor ex, core::Resolver& resolver,
                                   Options opts);

}  // namespace mxgate::client::probe
