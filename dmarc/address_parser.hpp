// dmarc/address_parser.hpp — RFC 5322 §3.4 address lists (From:, Sender:,
// Reply-To:), mxgate's own parser.
//
// Pure code. Input is an unfolded field value (HeaderField::value). Handles
// comments (nested, quoted-pairs), quoted strings, domain literals, groups,
// angle addresses with an obsolete route, obs-local-part / obs-domain (CFWS
// around the dots), empty list elements (obs-addr-list) and RFC 2047
// encoded words in display names. UTF-8 (RFC 6532) is accepted as atext.
//
// The structure is decided on the raw tokens, before any decoding: an
// encoded word that decodes to "<ceo@bank.example>" stays a display name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::dmarc {

struct Mailbox {
    std::string display_name;  // RFC 2047 decoded, quotes removed; may be empty
    std::string local_part;    // unquoted (quoted-pairs resolved), CFWS removed
    std::string domain;        // as written with CFWS removed; a literal keeps its brackets
    bool domain_literal = false;
    bool in_group = false;

    std::string address() const;       // local@domain (local part re-quoted when needed)
    std::string domain_lower() const;  // ASCII-lower-cased domain (the DMARC identifier)
};

struct AddressList {
    std::vector<Mailbox> mailboxes;  // every mailbox, group members included, in order
    size_t groups = 0;               // number of groups seen (an empty group adds no mailbox)
};

struct AddressError {
    std::string reason;  // short, fixed text (never echoes input)
};

struct AddressParse {
    std::optional<AddressList> list;
    AddressError error;
    bool ok() const { return list.has_value(); }
};

// Parses an address-list. Any syntax error fails the whole list.
AddressParse parse_address_list(std::string_view value);

// RFC 2047 decoding of a phrase (encoded words joined, whitespace between
// adjacent encoded words dropped). Charsets are not converted: the bytes
// are returned as decoded. Invalid encoded words stay as written.
std::string decode_encoded_words(std::string_view phrase);

}  // namespace mxgate::dmarc
