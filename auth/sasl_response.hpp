// auth/sasl_response.hpp — the client's side of an SMTP AUTH exchange
// (RFC 4954 §4), decoded without touching libsasl2:
//   - a response line: "*" cancels, otherwise base64 (an empty line is an
//     empty response; in an initial response "=" stands for empty);
//   - the PLAIN message (RFC 4616 §2): [authzid] NUL authcid NUL passwd,
//     which mxgate reads itself only to judge credentials a client sent
//     before TLS (SPEC §5: 538, and did a real password leak?).
//
// SECURITY: every byte here is attacker-controlled and may be a password.
// Nothing is logged; callers wipe() the decoded data. Fuzzed by
// tests/fuzz/sasl_response_fuzz.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxgate::auth {

struct SaslResponse {
    enum class Kind { data, cancel, malformed };
    Kind kind = Kind::malformed;
    std::string data;  // decoded bytes (Kind::data)
};

// `initial`: the response came on the AUTH line itself (where "=" = empty
// and an empty string cannot occur).
SaslResponse decode_sasl_response(std::string_view line, bool initial);

struct PlainCredentials {
    std::string authzid;  // may be empty
    std::string authcid;
    std::string password;
    void wipe();
};

// nullopt unless exactly two NULs separate the parts and authcid and
// password are non-empty (RFC 4616 §2).
std::optional<PlainCredentials> parse_plain(std::string_view message);

}  // namespace mxgate::auth
