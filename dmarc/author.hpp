// dmarc/author.hpp — SPEC §6 From: rules: which domain a DMARC verdict is
// about. Parsed exactly once here; every later check uses this result.
#pragma once

#include <string>
#include <vector>

#include "dmarc/address_parser.hpp"
#include "dmarc/header_fields.hpp"

namespace mxgate::dmarc {

struct Author {
    bool ok = false;
    std::string reason;                // why not ok (reply text for 550 5.7.1); fixed phrases only
    std::vector<Mailbox> mailboxes;    // the From: mailboxes (one, or several with Sender:)
    std::vector<std::string> domains;  // distinct lower-case author domains, in order
};

// Zero From:, more than one From:, an unparseable From:, a From: without an
// address, several addresses without Sender:, or an author domain that is
// not a DNS name → not ok.
Author find_author(const HeaderBlock& headers);

// A usable DNS host name: LDH (or UTF-8) labels of 1..63 octets, at least two
// labels, at most 253 octets, no leading/trailing hyphen in a label.
bool is_dns_domain(std::string_view d);

}  // namespace mxgate::dmarc
