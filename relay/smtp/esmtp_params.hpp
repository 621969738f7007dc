// relay/smtp/esmtp_params.hpp — internal: the ESMTP parameter list after a
// MAIL or RCPT path (RFC 5321 §4.1.2 Mail-parameters / Rcpt-parameters).
#pragma once

#include <string>
#include <string_view>

#include "relay/smtp/command.hpp"

namespace mxgate::smtp {

// `text` is what followed the closing '>' (empty, or SP-separated
// esmtp-param). Fills `out`; returns the first error found.
ParseError parse_params(std::string_view text, bool is_mail, Params& out, std::string& detail);

}  // namespace mxgate::smtp
