// dmarc/spf_check.hpp — SPF (RFC 7208) with libspf2, its DNS through
// mxgate's Resolver.
//
// Interface: check_spf(dns, input) evaluates MAIL FROM (or, for the null
// sender, the HELO identity: RFC 7208 §2.4) and returns one SpfVerdict with
// one of the seven results. Blocking: run it on the check pool
// (dmarc/checks.hpp), never on the I/O thread.
//
// How: libspf2 gets a DNS layer of ours (an SPF_dns_server_t whose lookup
// calls BlockingDns), so dns.resolver governs every SPF lookup. The layer
//   - pre-checks every TXT answer (dmarc/spf_precheck.hpp): an SPF record
//     that fails the check ends the evaluation as permerror before libspf2
//     compiles it (CVE-2023-42118); an invalid explanation string is dropped;
//   - drops MX/PTR names that are not plain host names;
//   - counts void lookups (RFC 7208 §4.6.4: more than two → permerror),
//     which libspf2 does not;
//   - enforces an overall time limit (RFC 7208 §4.6.4 suggests 20 s).
// libspf2 itself enforces the 10 DNS-mechanism limit (max_dns_mech).
//
// SECURITY: all DNS data and the envelope identities are attacker-
// controlled; nothing reaches libspf2 unchecked.
#pragma once

#include <chrono>
#include <string>

#include "dmarc/blocking_dns.hpp"
#include "dmarc/verdicts.hpp"

namespace mxgate::dmarc {

struct SpfInput {
    std::string client_ip;   // the SMTP client's address (IPv4, IPv6 or v4-mapped IPv6)
    std::string helo;        // HELO/EHLO argument
    std::string sender;      // MAIL FROM address without <>; "" = null sender
    std::string receiver;    // our host name (%{r} in explanations)
};

struct SpfLimits {
    int max_void_lookups = 2;                          // RFC 7208 §4.6.4
    std::chrono::milliseconds total = std::chrono::seconds(20);
};

SpfVerdict check_spf(const BlockingDns& dns, const SpfInput& input, const SpfLimits& limits = {});

}  // namespace mxgate::dmarc
