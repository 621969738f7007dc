// conf/names.cpp — syntax checks for the names a configuration holds:
// domain names (RFC 1035 §2.3.1 LDH, RFC 5890 A-labels), mailbox addresses
// and "@domain" entries, SPKI pins and OpenSSL TLS version names.
#include "conf/detail.hpp"

namespace mxgate::conf::detail {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string domain_name_problem(std::string_view name) {
    if (name.empty()) return "empty domain name";
    if (name.size() > 253) return "domain name longer than 253 octets";
    if (name.back() == '.') return "domain name must not end with a dot";
    size_t start = 0;
    while (start <= name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) dot = name.size();
        const std::string_view label = name.substr(start, dot - start);
        if (label.empty()) return "empty label in domain name";
        if (label.size() > 63) return "domain label longer than 63 octets";
        if (label.front() == '-' || label.back() == '-') return "domain label starts or ends with '-'";
        for (char ch : label) {
            const auto c = static_cast<unsigned char>(ch);
            if (c >= 0x80) return "non-ASCII domain name (write the A-label form, xn--...)";
            const bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
            if (!ldh) return "invalid character in domain name (letters, digits, '-' and '.' only)";
        }
        start = dot + 1;
    }
    return "";
}

std::string_view address_domain(std::string_view addr) {
    const size_t at = addr.rfind('@');
    return at == std::string_view::npos ? std::string_view() : addr.substr(at + 1);
}

std::string address_problem(std::string_view addr, bool allow_domain_only) {
    const size_t at = addr.rfind('@');
    if (at == std::string_view::npos) return "not an address (expected local@domain or @domain)";
    const std::string_view local = addr.substr(0, at);
    if (local.empty() && !allow_domain_only) return "empty local part";
    // RFC 5321 §4.5.3.1.1: local part at most 64 octets. Quoted local parts
    // and characters that need quoting are not supported in the table.
    if (local.size() > 64) return "local part longer than 64 octets";
    for (char ch : local) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7f || c == '@' || c == '<' || c == '>' || c == '"' || c == '(' ||
            c == ')' || c == ',' || c == ';' || c == ':' || c == '\\' || c == '[' || c == ']')
            return "invalid character in local part";
    }
    if (!local.empty() && (local.front() == '.' || local.back() == '.' ||
                           local.find("..") != std::string_view::npos))
        return "misplaced '.' in local part";
    const std::string problem = domain_name_problem(addr.substr(at + 1));
    return problem;
}

bool valid_pin(std::string_view pin) {
    constexpr std::string_view kPrefix = "sha256:";
    if (pin.substr(0, kPrefix.size()) != kPrefix) return false;
    const std::string_view b64 = pin.substr(kPrefix.size());
    // 32 bytes of SHA-256 = 43 base64 characters and one '=' (RFC 4648 §4).
    if (b64.size() != 44 || b64[43] != '=') return false;
    for (size_t i = 0; i < 43; ++i) {
        const char c = b64[i];
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '+' || c == '/';
        if (!ok) return false;
    }
    // The 43rd character carries the last 4 bits and 2 zero pad bits: its
    // value must be a multiple of 4, else the text is not canonical base64.
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    return kAlphabet.find(b64[42]) % 4 == 0;
}

bool valid_tls_version(std::string_view v) {
    return v == "TLSv1" || v == "TLSv1.1" || v == "TLSv1.2" || v == "TLSv1.3";
}

}  // namespace mxgate::conf::detail
