// relay/client/ehlo_capabilities.cpp — see ehlo_capabilities.hpp.
#include "relay/client/ehlo_capabilities.hpp"

#include <limits>

namespace mxgate::client {

namespace {

constexpr size_t kMaxMechanisms = 32;

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string to_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = upper(c);
    return out;
}

// Splits on runs of spaces (the parser already turned tabs into '?').
std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        const size_t start = i;
        while (i < s.size() && s[i] != ' ') ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

// RFC 4422 §3.1: sasl-mech = 1*20mech-char; mech-char = UPPER-ALPHA / DIGIT / HYPHEN / UNDERSCORE
bool valid_mechanism(std::string_view m) {
    if (m.empty() || m.size() > 20) return false;
    for (char c : m) {
        const char u = upper(c);
        if (!((u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' || u == '_')) return false;
    }
    return true;
}

void add_mechanism(EhloCapabilities& caps, std::string_view m) {
    if (!valid_mechanism(m) || caps.auth.size() >= kMaxMechanisms) return;
    std::string name = to_upper(m);
    if (!caps.has_auth(name)) caps.auth.push_back(std::move(name));
}

// RFC 1870 §4: size-param = [1*DIGIT]. Returns 0 when absent or invalid.
uint64_t parse_size(std::string_view s) {
    uint64_t v = 0;
    if (s.empty() || s.size() > 19) return 0;
    for (char c : s) {
        if (c < '0' || c > '9') return 0;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
}

}  // namespace

bool EhloCapabilities::has_auth(std::string_view mech) const {
    for (const auto& m : auth)
        if (m == mech) return true;
    return false;
}

EhloCapabilities parse_ehlo(const core::Reply& reply) {
    EhloCapabilities caps;
    // Line 0 is "domain [greeting]"; capabilities follow (RFC 5321 §4.1.1.1).
    for (size_t i = 1; i < reply.lines.size(); ++i) {
        const auto w = words(reply.lines[i]);
        if (w.empty()) continue;
        std::string key = to_upper(w[0]);
        // Pre-RFC 4954 servers send "AUTH=PLAIN LOGIN".
        if (key.rfind("AUTH=", 0) == 0) {
            add_mechanism(caps, std::string_view(w[0]).substr(5));
            for (size_t j = 1; j < w.size(); ++j) add_mechanism(caps, w[j]);
            continue;
        }
        if (key == "STARTTLS") caps.starttls = true;
        else if (key == "PIPELINING") caps.pipelining = true;
        else if (key == "8BITMIME") caps.eightbitmime = true;
        else if (key == "SMTPUTF8") caps.smtputf8 = true;
        else if (key == "CHUNKING") caps.chunking = true;
        else if (key == "ENHANCEDSTATUSCODES") caps.enhancedstatuscodes = true;
        else if (key == "DSN") caps.dsn = true;
        else if (key == "REQUIRETLS") caps.requiretls = true;
        else if (key == "SIZE") {
            caps.size = true;
            if (w.size() > 1) caps.size_limit = parse_size(w[1]);
        } else if (key == "AUTH") {
            for (size_t j = 1; j < w.size(); ++j) add_mechanism(caps, w[j]);
        }
    }
    return caps;
}

}  // namespace mxgate::client
