// dmarc/author.cpp — SPEC §6 From: rules.
#include "dmarc/author.hpp"
#include "relay/core/ascii.hpp"

#include <algorithm>

namespace mxgate::dmarc {

bool is_dns_domain(std::string_view d) {
    // Letters, digits, '-', '_' (seen in real From: domains) and 8-bit octets.
    auto label_char = [](unsigned char c) { return c >= 0x80 || core::ascii::is_alnum(c) || c == '-' || c == '_'; };
    return core::ascii::dns_name_ok(d, label_char, 2);
}

Author find_author(const HeaderBlock& headers) {
    Author a;
    const auto froms = headers.all("From");
    if (froms.empty()) {
        a.reason = "message has no From: header";
        return a;
    }
    if (froms.size() > 1) {
        a.reason = "message has more than one From: header";
        return a;
    }
    const AddressParse p = parse_address_list(froms.front()->value);
    if (!p.ok()) {
        a.reason = "From: header is not a valid address list (" + p.error.reason + ")";
        return a;
    }
    if (p.list->mailboxes.empty()) {
        a.reason = "From: header has no address";
        return a;
    }
    if (p.list->mailboxes.size() > 1 && headers.count("Sender") == 0) {
        a.reason = "From: header has several addresses and there is no Sender: header";
        return a;
    }
    for (const Mailbox& m : p.list->mailboxes) {
        if (m.domain_literal || !is_dns_domain(m.domain)) {
            a.reason = "From: address has no usable domain name";
            return a;
        }
        std::string d = m.domain_lower();
        if (std::find(a.domains.begin(), a.domains.end(), d) == a.domains.end()) a.domains.push_back(std::move(d));
    }
    a.mailboxes = p.list->mailboxes;
    a.ok = true;
    return a;
}

}  // namespace mxgate::dmarc
