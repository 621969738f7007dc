// dmarc/verdicts.hpp — the results the inbound checks hand each other:
// SPF (dmarc/spf*), DKIM verification (dmarc/dkim_verify*) feed DMARC
// evaluation (dmarc/dmarc*) and the Authentication-Results header. DMARC is
// always fed with these, mxgate's own results — never with an upstream
// Authentication-Results header.
#pragma once

#include <string>
#include <vector>

namespace mxgate::dmarc {

// RFC 7208 §2.6 results.
enum class SpfResult { none, neutral, pass, fail, softfail, temperror, permerror };

struct SpfVerdict {
    SpfResult result = SpfResult::none;
    std::string identity;     // "mailfrom" or "helo" (null sender: HELO identity, RFC 7208 §2.3)
    std::string domain;       // the domain checked (MAIL FROM's domain or the HELO name), lower-case
    std::string explanation;  // short reason for logs / A-R comment; never message content
};

// RFC 8601 dkim= results.
enum class DkimResult { none, pass, fail, neutral, policy, temperror, permerror };

struct DkimVerdict {
    DkimResult result = DkimResult::none;
    std::string domain;    // d=, lower-case
    std::string selector;  // s=
    // false when l= leaves part of the body unsigned: SPEC §6 counts such a
    // signature as no signature (result is then reported as policy/neutral).
    bool covers_body = true;
    std::string error;     // short reason when not pass
    // > 0: not a signature but the summary of this many signatures beyond
    // the verifier's limit (dmarc/dkim_verify.hpp); result policy, no d=.
    int not_evaluated = 0;
};

// Every signature of a message, in header order; empty = unsigned.
using DkimVerdicts = std::vector<DkimVerdict>;

const char* to_string(SpfResult r);
const char* to_string(DkimResult r);

}  // namespace mxgate::dmarc
