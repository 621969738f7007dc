#include "auth/sasl_response.hpp"

#include "auth/base64.hpp"

namespace mxgate::auth {

SaslResponse decode_sasl_response(std::string_view line, bool initial) {
    SaslResponse r;
    if (line == "*") {
        r.kind = SaslResponse::Kind::cancel;
        return r;
    }
    if (initial && line == "=") {
        r.kind = SaslResponse::Kind::data;
        return r;
    }
    if (initial && line.empty()) return r;  // cannot happen after the command parser; refuse anyway
    std::optional<std::string> d = decode_base64(line);
    if (!d) return r;
    r.kind = SaslResponse::Kind::data;
    r.data = std::move(*d);
    return r;
}

void PlainCredentials::wipe() {
    auth::wipe(authzid);
    auth::wipe(authcid);
    auth::wipe(password);
}

std::optional<PlainCredentials> parse_plain(std::string_view m) {
    const size_t a = m.find('\0');
    if (a == std::string_view::npos) return std::nullopt;
    const size_t b = m.find('\0', a + 1);
    if (b == std::string_view::npos) return std::nullopt;
    if (m.find('\0', b + 1) != std::string_view::npos) return std::nullopt;
    PlainCredentials c;
    c.authzid = std::string(m.substr(0, a));
    c.authcid = std::string(m.substr(a + 1, b - a - 1));
    c.password = std::string(m.substr(b + 1));
    if (c.authcid.empty() || c.password.empty()) {
        c.wipe();
        return std::nullopt;
    }
    return c;
}

}  // namespace mxgate::auth
