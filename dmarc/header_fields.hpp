// dmarc/header_fields.hpp — split an RFC 5322 header block into fields.
//
// Pure code (no I/O, no Asio): used by the From: rules, DMARC, sender
// binding on submission and the Authentication-Results rewrite. Field names
// compare case-insensitively; values are unfolded (CRLF before WSP removed).
// Each field keeps its exact raw bytes so a caller can write the header
// block back with some fields dropped and everything else byte-identical.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::dmarc {

struct HeaderField {
    std::string name;   // as written, trailing WSP before ':' trimmed (obs-optional); empty if malformed
    std::string value;  // unfolded text after ':' (line breaks removed, leading/trailing WSP kept)
    size_t offset = 0;  // raw field = block.substr(offset, length), incl. its final line break
    size_t length = 0;
    bool malformed = false;  // a line that is neither a field nor a continuation

    bool is(std::string_view n) const;  // case-insensitive name match (never true when malformed)
};

struct HeaderBlock {
    std::vector<HeaderField> fields;
    // Offset of the body: just after the empty line ending the header block,
    // or the input size when no empty line was seen (then complete = false).
    size_t body_offset = 0;
    bool complete = false;
    size_t malformed_lines = 0;

    size_t count(std::string_view name) const;
    // The fields named `name`, in order.
    std::vector<const HeaderField*> all(std::string_view name) const;
    const HeaderField* first(std::string_view name) const;
};

// Lines end with CRLF; a bare LF is accepted as a line end too (the SMTP
// reader already refuses bare LF on the wire, this keeps the parser total).
HeaderBlock split_header_block(std::string_view message);

bool iequals(std::string_view a, std::string_view b);

}  // namespace mxgate::dmarc
