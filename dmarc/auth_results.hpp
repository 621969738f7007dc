// dmarc/auth_results.hpp — the Authentication-Results header (RFC 8601)
// mxgate adds, and the removal of forged ones claiming its authserv-id.
//
// Pure code. Values that come from the peer (domains, selectors) are
// restricted to RFC 8601 "value" characters before they go into the header.
#pragma once

#include <string>
#include <string_view>

#include "dmarc/dmarc_eval.hpp"
#include "dmarc/header_fields.hpp"
#include "dmarc/verdicts.hpp"

namespace mxgate::dmarc {

struct AuthResultsInput {
    std::string authserv_id;           // policy: hostname
    bool spf_checked = false;
    SpfVerdict spf;
    bool dkim_checked = false;
    DkimVerdicts dkim;
    bool dmarc_checked = false;
    DmarcVerdict dmarc;
    std::string from_domain;           // header.from
};

// The whole field, folded, CRLF-terminated.
std::string authentication_results(const AuthResultsInput& in);

// The authserv-id of an Authentication-Results value (CFWS skipped, an
// optional version after it ignored); empty when none can be read.
std::string authserv_id_of(std::string_view value);

// The message with every Authentication-Results field whose authserv-id is
// `id` (case-insensitive) removed; all other bytes unchanged. `removed`
// counts them.
std::string strip_own_auth_results(std::string_view message, const HeaderBlock& headers, std::string_view id,
                                   size_t& removed);

}  // namespace mxgate::dmarc
