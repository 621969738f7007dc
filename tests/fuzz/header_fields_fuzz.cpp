// tests/fuzz/header_fields_fuzz.cpp — libFuzzer target for the RFC 5322
// header block splitter (dmarc/header_fields) and the From: rules.
//
// Checked properties (abort on violation):
//  - the raw bytes of the fields, in order, tile the input exactly up to
//    the header/body boundary (a rewrite that drops fields changes nothing else);
//  - a field's unfolded value holds no CR or LF (LF-terminated lines aside,
//    a CR can only survive as a bare CR inside a line);
//  - a malformed line never matches any name; count() agrees with all();
//  - body_offset <= size; complete iff an empty line was seen;
//  - find_author() is ok only with exactly one From: whose domains are DNS
//    names, and gives a reason otherwise.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dmarc/author.hpp"
#include "dmarc/header_fields.hpp"

using namespace mxgate::dmarc;

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const HeaderBlock b = split_header_block(in);
    check(b.body_offset <= in.size());
    size_t pos = 0;
    for (const HeaderField& f : b.fields) {
        check(f.offset == pos);
        check(f.length > 0);
        pos += f.length;
        check(f.value.find('\n') == std::string::npos);
        if (f.malformed) {
            check(f.name.empty());
            check(!f.is(""));
        } else {
            check(!f.name.empty());
            check(f.is(f.name));
            check(f.name.find(':') == std::string::npos);
        }
    }
    if (b.complete) {
        check(b.body_offset >= pos + 1);
        const std::string_view blank = in.substr(pos, b.body_offset - pos);
        check(blank == "\r\n" || blank == "\n");
    } else {
        check(pos == in.size() && b.body_offset == in.size());
    }
    check(b.count("From") == b.all("from").size());

    const Author a = find_author(b);
    if (a.ok) {
        check(b.count("From") == 1);
        check(!a.domains.empty() && !a.mailboxes.empty());
        check(a.mailboxes.size() == 1 || b.count("Sender") > 0);
        for (const auto& d : a.domains) check(is_dns_domain(d));
    } else {
        check(!a.reason.empty());
    }
    return 0;
}
