// dmarc/author.cpp — SPEC §6 From: rules.
#include "dmarc/author.hpp"

#include <algorithm>

namespace mxgate::dmarc {

bool is_dns_domain(std::string_view d) {
    if (d.empty() || d.size() > 253) return false;
    size_t labels = 0;
    size_t start = 0;
    while (start <= d.size()) {
        size_t end = d.find('.', start);
        if (end == std::string_view::npos) end = d.size();
        const std::string_view label = d.substr(start, end - start);
        if (label.empty() || label.size() > 63) return false;
        if (label.front() == '-' || label.back() == '-') return false;
        for (const char ch : label) {
            const auto c = static_cast<unsigned char>(ch);
            const bool ok = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!ok) return false;
        }
        ++labels;
        start = end + 1;
    }
    return labels >= 2;
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
