// tlspolicy/tlspolicy.hpp — TLS contexts, cipher profiles, certificate
// checks and (later) outbound policy resolution, MTA-STS, DANE, TLS-RPT and
// downgrade tracking.
//
// Interface: resolve_profile() turns a named profile plus key overrides into
// exact OpenSSL settings (docs/tls-profiles.md gives the reasons).
// make_server_context()/make_client_context() build one SSL_CTX per config
// load (Postfix tls_client_init); per-connection settings (SNI, expected
// names, pins) are applied per connection (tls_client_start).
//
// SECURITY: peer certificates are untrusted input; name checks follow
// RFC 6125 (no partial wildcards, wildcard only in the left-most label).
// A pin is "sha256:" + base64(SHA-256(SubjectPublicKeyInfo DER)).
// RFCs: 8446, 5246, 6125, 7525 (BCP 195), 3207.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"

namespace mxgate::tlspolicy {

struct ProfileSettings {
    int min_version = TLS1_2_VERSION;   // OpenSSL protocol constants
    int max_version = 0;                // 0 = highest supported
    std::string ciphers;                // TLS <= 1.2 cipher list
    std::string ciphersuites;           // TLS 1.3 suites
    std::string groups;                 // key exchange groups
};

// Named profile + overrides -> exact settings. nullopt + error on a bad override.
std::optional<ProfileSettings> resolve_profile(const conf::TlsProfile& p, std::string& error);
// "TLSv1.2" -> TLS1_2_VERSION; 0 if unknown.
int protocol_from_name(std::string_view name);
std::string protocol_name(int version);

using ContextPtr = std::shared_ptr<boost::asio::ssl::context>;

// Server context with certificate chain and key. nullptr + error on failure.
ContextPtr make_server_context(const conf::TlsProfile& profile, const std::string& cert_file,
                               const std::string& key_file, std::string& error);
// Client context; ca_file "system" = OpenSSL default paths, else a PEM file.
//
// VERIFICATION CONTRACT: SSL_VERIFY_PEER is set with a verify callback that
// ALWAYS CONTINUES. Every handshake with a certificate completes, trusted or
// not, so "opportunistic" and "encrypt" can proceed. The chain verdict stays
// available after the handshake through SSL_get_verify_result() (or
// describe().chain_verified / verify_error). It covers the chain only, not
// the name: levels verify, mta-sts (and dane-TA) MUST check both
// chain_verified and certificate_matches_host/list themselves and abort the
// session (QUIT, defer) on failure. Nothing here aborts a handshake for them.
ContextPtr make_client_context(const conf::TlsProfile& profile, const std::string& ca_file,
                               std::string& error);
// Per-connection client settings, before the handshake (Postfix
// tls_client_start): SNI = server_name (lower-cased, trailing dot removed;
// none for an IP literal or "", RFC 6066 §3). The SSL's own host check is
// not armed: name matching is certificate_matches_host/list's job, so that
// the chain verdict and the name verdict are reported separately.
// [added by tlspolicy; additive]
bool prepare_client_connection(SSL* ssl, const std::string& server_name, std::string& error);

// Creates a self-signed certificate and key (EC P-256, 1 year, CN and SAN =
// hostname) if cert_file does not exist. For the development config.
bool ensure_self_signed(const std::string& cert_file, const std::string& key_file,
                        const std::string& hostname, std::string& error);

// "sha256:BASE64" of the certificate's SubjectPublicKeyInfo.
std::string spki_pin(X509* cert);
// RFC 6125 match of a certificate's DNS SANs (CN only without SANs) against
// a host name, or against a match list (".example.com" = any subdomain).
bool certificate_matches_host(X509* cert, std::string_view host);
// Entries: ".example.com" = the certificate names a strict subdomain (or a
// wildcard covering only subdomains); other entries = certificate_matches_host
// with the entry as the host (Postfix smtp_tls_verify_cert_match semantics;
// details in certificate_checks.cpp). Empty list = no match.
bool certificate_matches_list(X509* cert, const std::vector<std::string>& patterns);
// True when spki_pin(cert) is one of `pins` (exact, case-sensitive base64).
// [added by tlspolicy; additive]
bool certificate_matches_pins(X509* cert, const std::vector<std::string>& pins);

// What a finished handshake negotiated, for Received: and events.
struct SessionInfo {
    std::string version;       // "TLSv1.3"
    std::string cipher;        // "TLS_AES_256_GCM_SHA384"
    int bits = 0;
    std::string peer_subject;  // peer certificate subject, "" if none
    std::string peer_pin;      // spki_pin of the peer certificate
    bool chain_verified = false;   // chain verified against the trust store
    std::string verify_error;      // X509 verify error text when not verified
};
SessionInfo describe(SSL* ssl);

}  // namespace mxgate::tlspolicy
