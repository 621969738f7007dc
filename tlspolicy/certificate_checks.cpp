// tlspolicy/certificate_checks.cpp — SPKI pins and RFC 6125 name checks.
//
// SECURITY: every byte read here comes from a peer certificate. Names with
// an embedded NUL are ignored (the classic "www.bank.com\0.evil.com"
// attack), comparison is ASCII case-insensitive only (names are compared as
// A-labels, RFC 6125 §6.4.1), and a wildcard is honoured only as the whole
// left-most label of a name with at least two more labels (RFC 6125
// §6.4.3; "*.com" and "f*.example.com" never match).
//
// Rules (RFC 6125 §6.4):
//   - DNS-ID: subjectAltName dNSName entries. The subject CN is consulted
//     only when the certificate has no dNSName at all (§6.4.4).
//   - A reference identifier that is an IP address matches only iPAddress
//     SAN entries, byte for byte; never a DNS name or CN.
//   - A trailing dot on either side is ignored.
//
// Match lists (SPEC §3 `match`, after Postfix smtp_tls_verify_cert_match):
// each entry names a host the certificate must be valid for.
//   ".example.com"  the certificate holds a name that is a strict subdomain
//                   of example.com: "mx.example.com", "a.b.example.com", or
//                   a wildcard whose every expansion is such a subdomain
//                   ("*.example.com", "*.mx.example.com"). "example.com"
//                   itself does not match.
//   "mx.example.com" exactly as certificate_matches_host("mx.example.com"),
//                   so a "*.example.com" certificate matches it.
//   "192.0.2.1"     an iPAddress SAN with that address.
// The list matches when any entry matches. An empty list matches nothing
// (the caller falls back to the MX name, SPEC §3). Postfix's keywords
// "hostname", "nexthop" and "dot-nexthop" are not special here.
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlspolicy/detail.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {
namespace {

struct CertNames {
    std::vector<std::string> dns;  // lower-case, trailing dot removed
    std::vector<std::string> ips;  // 4 or 16 raw octets
    bool has_dns_san = false;      // even if every entry was unusable
};

std::string normalise(std::string_view s) {
    std::string out = detail::ascii_lower(s);
    if (!out.empty() && out.back() == '.') out.pop_back();
    return out;
}

// A usable DNS name: non-empty labels, no NUL.
bool well_formed(std::string_view name) {
    if (name.empty() || name.find('\0') != std::string_view::npos) return false;
    if (name.front() == '.' || name.back() == '.') return false;
    return name.find("..") == std::string_view::npos;
}

// Returns the 4/16 octets of an IP literal ("192.0.2.1", "2001:db8::1",
// SMTP's "[192.0.2.1]" / "[IPv6:2001:db8::1]"), or "" for a DNS name.
std::string ip_octets(std::string_view host) {
    std::string h(host);
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
        h = h.substr(1, h.size() - 2);
        if (h.size() > 5 && detail::ascii_lower(h.substr(0, 5)) == "ipv6:") h = h.substr(5);
    }
    unsigned char buf[16];
    if (inet_pton(AF_INET, h.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
    if (inet_pton(AF_INET6, h.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 16);
    return {};
}

// ASN.1 string -> std::string, or nullopt if it holds a NUL.
std::optional<std::string> asn1_text(const ASN1_STRING* s) {
    if (!s) return std::nullopt;
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, s);
    if (len < 0) return std::nullopt;
    std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
    if (out.find('\0') != std::string::npos) return std::nullopt;
    return out;
}

CertNames names_of(X509* cert) {
    CertNames names;
    auto* sans = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
        const GENERAL_NAME* gen = sk_GENERAL_NAME_value(sans, i);
        if (gen->type == GEN_DNS) {
            names.has_dns_san = true;
            if (auto t = asn1_text(gen->d.dNSName)) names.dns.push_back(normalise(*t));
        } else if (gen->type == GEN_IPADD) {
            const ASN1_OCTET_STRING* ip = gen->d.iPAddress;
            int len = ASN1_STRING_length(ip);
            if (len == 4 || len == 16)
                names.ips.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ip)),
                                       static_cast<size_t>(len));
        }
    }
    GENERAL_NAMES_free(sans);
    if (!names.has_dns_san) {
        // RFC 6125 §6.4.4: CN-ID only without any DNS-ID.
        X509_NAME* subject = X509_get_subject_name(cert);
        for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
            const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
            if (auto t = asn1_text(cn)) names.dns.push_back(normalise(*t));
        }
    }
    return names;
}

// "*.rest": the wildcard's base, or "" when `name` is not a valid wildcard.
// Valid = "*" is the whole left-most label, no other "*", and the base has
// at least two labels (no "*.com").
std::string_view wildcard_base(std::string_view name) {
    if (name.size() < 3 || name[0] != '*' || name[1] != '.') return {};
    std::string_view base = name.substr(2);
    if (base.find('*') != std::string_view::npos || !well_formed(base)) return {};
    if (base.find('.') == std::string_view::npos) return {};
    return base;
}

// RFC 6125 §6.4.1/§6.4.3: presented identifier `presented` vs reference host.
bool dns_matches(std::string_view presented, std::string_view host) {
    if (!well_formed(host) || host.find('*') != std::string_view::npos) return false;
    if (presented.find('*') == std::string_view::npos)
        return well_formed(presented) && presented == host;
    std::string_view base = wildcard_base(presented);
    if (base.empty()) return false;  // partial or misplaced wildcard
    auto dot = host.find('.');
    if (dot == std::string_view::npos || dot == 0) return false;
    return host.substr(dot + 1) == base;  // "*" stands for exactly one label
}

bool is_strict_subdomain(std::string_view name, std::string_view parent) {
    return name.size() > parent.size() + 1 &&
           name.substr(name.size() - parent.size()) == parent &&
           name[name.size() - parent.size() - 1] == '.';
}

// ".parent" pattern vs one presented name (see the file header).
bool dns_under(std::string_view presented, std::string_view parent) {
    if (!well_formed(parent) || parent.find('*') != std::string_view::npos) return false;
    if (presented.find('*') == std::string_view::npos)
        return well_formed(presented) && is_strict_subdomain(presented, parent);
    std::string_view base = wildcard_base(presented);
    if (base.empty()) return false;
    return base == parent || is_strict_subdomain(base, parent);
}

bool matches_reference(const CertNames& names, std::string_view reference) {
    if (std::string ip = ip_octets(reference); !ip.empty()) {
        for (const std::string& have : names.ips)
            if (have == ip) return true;
        return false;
    }
    std::string host = normalise(reference);
    for (const std::string& presented : names.dns)
        if (dns_matches(presented, host)) return true;
    return false;
}

}  // namespace

std::string spki_pin(X509* cert) {
    if (!cert) return {};
    X509_PUBKEY* key = X509_get_X509_PUBKEY(cert);
    int len = i2d_X509_PUBKEY(key, nullptr);
    if (len <= 0) return {};
    std::vector<unsigned char> der(static_cast<size_t>(len));
    unsigned char* p = der.data();
    i2d_X509_PUBKEY(key, &p);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(der.data(), der.size(), digest, &digest_len, EVP_sha256(), nullptr) != 1)
        return {};
    unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    int b64_len = EVP_EncodeBlock(b64, digest, static_cast<int>(digest_len));
    return "sha256:" + std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(b64_len));
}

bool certificate_matches_pins(X509* cert, const std::vector<std::string>& pins) {
    std::string have = spki_pin(cert);
    if (have.empty()) return false;
    for (const std::string& pin : pins)
        if (pin == have) return true;  // base64 is case-sensitive
    return false;
}

bool certificate_matches_host(X509* cert, std::string_view host) {
    if (!cert || host.empty()) return false;
    return matches_reference(names_of(cert), host);
}

bool certificate_matches_list(X509* cert, const std::vector<std::string>& patterns) {
    if (!cert) return false;
    CertNames names = names_of(cert);
    for (const std::string& raw : patterns) {
        if (raw.size() > 1 && raw.front() == '.') {
            std::string parent = normalise(std::string_view(raw).substr(1));
            for (const std::string& presented : names.dns)
                if (dns_under(presented, parent)) return true;
        } else if (!raw.empty() && matches_reference(names, raw)) {
            return true;
        }
    }
    return false;
}

}  // namespace mxgate::tlspolicy
