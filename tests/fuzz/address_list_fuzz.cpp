// tests/fuzz/address_list_fuzz.cpp — libFuzzer target for the RFC 5322
// address-list parser (dmarc/address_parser) and RFC 2047 decoding.
//
// Checked properties (abort on violation):
//  - a parse either gives a list or a non-empty fixed reason;
//  - every mailbox has a non-empty domain; a literal domain is bracketed,
//    any other holds only atext and single dots (no CFWS left over);
//  - Mailbox::address() re-parses to one mailbox with the same local part
//    and domain (the rendering loses nothing);
//  - decode_encoded_words never grows the text beyond its input (decoding
//    only shrinks) and is total.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dmarc/address_parser.hpp"

using namespace mxgate::dmarc;

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}

bool domain_chars_ok(const std::string& d) {
    if (d.empty() || d.front() == '.' || d.back() == '.') return false;
    char prev = 0;
    for (const char ch : d) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '.' && prev == '.') return false;
        if (c <= ' ' || c == 127 || c == '@' || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
            c == ';' || c == ':' || c == '"' || c == '[' || c == ']' || c == '\\')
            return false;
        prev = ch;
    }
    return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const AddressParse p = parse_address_list(in);
    if (!p.ok()) {
        check(!p.error.reason.empty());
    } else {
        for (const Mailbox& m : p.list->mailboxes) {
            if (m.domain_literal) {
                check(m.domain.size() >= 2 && m.domain.front() == '[' && m.domain.back() == ']');
            } else {
                check(domain_chars_ok(m.domain));
            }
            const AddressParse again = parse_address_list(m.address());
            check(again.ok());
            check(again.list->mailboxes.size() == 1);
            check(again.list->mailboxes[0].local_part == m.local_part);
            check(again.list->mailboxes[0].domain == m.domain);
        }
    }
    const std::string decoded = decode_encoded_words(in);
    check(decoded.size() <= in.size());
    return 0;
}
