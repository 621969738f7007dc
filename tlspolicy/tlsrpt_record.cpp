// tlspolicy/tlsrpt_record.cpp — RFC 8460 §3 record parsing (tlsrpt_record.hpp).
//
//   tlsrpt-record = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
//   tlsrpt-version = %s"v=TLSRPTv1"     field-delim = *WSP ";" *WSP
//   tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
//   tlsrpt-extension = name "=" value   (ignored; name: ALPHA/DIGIT, '_', '-', '.')
#include "tlspolicy/tlsrpt_record.hpp"
#include "relay/core/ascii.hpp"

namespace mxgate::tlspolicy {

namespace {

constexpr size_t kMaxUri = 2048;
constexpr size_t kMaxUris = 16;

bool wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && wsp(s.back())) s.remove_suffix(1);
    return s;
}

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

// A report URI: mailto:<something> or https://<host>...; printable ASCII
// without spaces, ';' or ',' (those would have been delimiters).
std::optional<std::string> check_uri(std::string_view u, std::string& error) {
    if (u.empty()) {
        error = "empty rua URI";
        return std::nullopt;
    }
    if (u.size() > kMaxUri) {
        error = "rua URI longer than 2048 octets";
        return std::nullopt;
    }
    for (char c : u) {
        const auto uc = static_cast<unsigned char>(c);
        if (uc <= 0x20 || uc >= 0x7f) {
            error = "rua URI with a space or control character";
            return std::nullopt;
        }
    }
    std::string out(u);
    if (starts_with_ci(u, "mailto:")) {
        out.replace(0, 7, "mailto:");
        if (tlsrpt_mailto_address(out).empty()) {
            error = "rua mailto: URI without an address";
            return std::nullopt;
        }
        return out;
    }
    if (starts_with_ci(u, "https://")) {
        out.replace(0, 8, "https://");
        if (out.size() == 8 || out[8] == '/') {
            error = "rua https: URI without a host";
            return std::nullopt;
        }
        return out;
    }
    error = "rua URI scheme is neither mailto: nor https:";
    return std::nullopt;
}

}  // namespace

std::string tlsrpt_mailto_address(std::string_view uri) {
    if (!starts_with_ci(uri, "mailto:")) return {};
    std::string_view rest = uri.substr(7);
    if (const size_t q = rest.find('?'); q != std::string_view::npos) rest = rest.substr(0, q);
    std::string out;
    for (size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '%') {
            if (i + 2 >= rest.size()) return {};
            const int hi = core::ascii::hex_digit(rest[i + 1]), lo = core::ascii::hex_digit(rest[i + 2]);
            if (hi < 0 || lo < 0) return {};
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += rest[i];
        }
    }
    // One address: local@domain, no spaces, controls, commas or angle brackets.
    const size_t at = out.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 >= out.size()) return {};
    for (char c : out) {
        const auto uc = static_cast<unsigned char>(c);
        if (uc <= 0x20 || uc >= 0x7f || c == ',' || c == '<' || c == '>' || c == ';') return {};
    }
    return out;
}

std::optional<HttpsUri> tlsrpt_https_uri(std::string_view uri) {
    if (!starts_with_ci(uri, "https://") || uri.size() > kMaxUri) return std::nullopt;
    for (char c : uri) {
        const auto uc = static_cast<unsigned char>(c);
        if (uc <= 0x20 || uc >= 0x7f) return std::nullopt;
    }
    std::string_view rest = uri.substr(8);
    if (const size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
    const size_t slash = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, slash);
    HttpsUri out;
    if (slash != std::string_view::npos) {
        out.target = std::string(rest.substr(slash));
        if (out.target[0] == '?') out.target = "/" + out.target;
    }
    if (authority.find('@') != std::string_view::npos) return std::nullopt;
    if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
        const std::string_view port = authority.substr(colon + 1);
        if (port.empty() || port.size() > 5) return std::nullopt;
        unsigned v = 0;
        for (char c : port) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (v == 0 || v > 65535) return std::nullopt;
        out.port = static_cast<uint16_t>(v);
        authority = authority.substr(0, colon);
    }
    if (!authority.empty() && authority.back() == '.') authority.remove_suffix(1);
    if (authority.empty() || authority.size() > 253) return std::nullopt;
    // A DNS name: letters, digits, '-' and '.', no empty label.
    char prev = '.';
    for (char c : authority) {
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '.') return std::nullopt;
        if (c == '.' && prev == '.') return std::nullopt;
        out.host += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        prev = c;
    }
    // All digits and dots would be an IPv4 literal: the certificate check needs a name.
    if (out.host.find_first_not_of("0123456789.") == std::string::npos) return std::nullopt;
    return out;
}

std::optional<TlsRptRecord> parse_tlsrpt_record(std::string_view txt, std::string& error) {
    static constexpr std::string_view kVersion = "v=TLSRPTv1";
    if (txt.substr(0, kVersion.size()) != kVersion) {
        error = "does not start with v=TLSRPTv1";
        return std::nullopt;
    }
    std::string_view rest = txt.substr(kVersion.size());
    TlsRptRecord rec;
    bool have_rua = false;
    while (!rest.empty()) {
        // field-delim, then a field (or the end: a trailing delimiter is allowed)
        size_t i = 0;
        while (i < rest.size() && wsp(rest[i])) ++i;
        if (i == rest.size() || rest[i] != ';') {
            error = "expected ';' between fields";
            return std::nullopt;
        }
        ++i;
        while (i < rest.size() && wsp(rest[i])) ++i;
        rest = rest.substr(i);
        if (rest.empty()) break;
        const size_t end = rest.find(';');
        std::string_view field = trim(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        const size_t eq = field.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            error = "field without name=value";
            return std::nullopt;
        }
        std::string_view name = field.substr(0, eq);
        for (char c : name)
            if (!name_char(c)) {
                error = "invalid field name";
                return std::nullopt;
            }
        std::string_view value = field.substr(eq + 1);
        if (name == "rua") {
            if (have_rua) {
                error = "more than one rua field";
                return std::nullopt;
            }
            have_rua = true;
            while (true) {
                const size_t comma = value.find(',');
                std::string_view u = trim(value.substr(0, comma));
                auto uri = check_uri(u, error);
                if (!uri) return std::nullopt;
                if (rec.rua.size() >= kMaxUris) {
                    error = "more than 16 rua URIs";
                    return std::nullopt;
                }
                rec.rua.push_back(std::move(*uri));
                if (comma == std::string_view::npos) break;
                value = value.substr(comma + 1);
            }
        } else if (name == "v") {
            error = "v= field repeated";
            return std::nullopt;
        }
        // Other fields are extensions (RFC 8460 §3): ignored.
    }
    if (!have_rua) {
        error = "no rua field";
        return std::nullopt;
    }
    return rec;
}

std::optional<TlsRptRecord> select_tlsrpt_record(const std::vector<std::string>& txts, std::string& error) {
    std::optional<TlsRptRecord> found;
    int candidates = 0;
    for (const std::string& t : txts) {
        if (std::string_view(t).substr(0, 10) != "v=TLSRPTv1") continue;
        if (++candidates > 1) {
            error = "more than one v=TLSRPTv1 record";
            return std::nullopt;
        }
        found = parse_tlsrpt_record(t, error);
        if (!found) return std::nullopt;
    }
    if (candidates == 0) {
        error = "no v=TLSRPTv1 record";
        return std::nullopt;
    }
    return found;
}

}  // namespace mxgate::tlspolicy
