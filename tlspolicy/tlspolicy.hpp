// tlspolicy/tlspolicy.hpp — TLS contexts, cipher profiles, certificate
// checks. Outbound policy resolution is in outbound_policy.hpp, MTA-STS in
// mta_sts.hpp (pure parsers) and mta_sts_client.hpp (fetch and cache);
// DANE, TLS-RPT and downgrade tracking come later.
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
//
// Inbound observability (ClientHello capture, dry run, require_tls,
// downgrade tracker, sender posture) has its own header: tlspolicy/inbound.hpp.
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

// ---- profiles.cpp (+ context_setup.cpp for the options every context shares)

// Named profile + overrides -> exact settings. nullopt + error on a bad
// override; error is "<key>: <reason>" (min_version, ciphers, ciphersuites,
// groups) for the caller to prefix with the config path. A `ciphers`
// override without "@SECLEVEL=" inherits the profile's security level.
std::optional<ProfileSettings> resolve_profile(const conf::TlsProfile& p, std::string& error);
// "TLSv1.2" -> TLS1_2_VERSION; 0 if unknown.
int protocol_from_name(std::string_view name);
// TLS1_2_VERSION -> "TLSv1.2"; 0 -> "highest"; else "unknown".
std::string protocol_name(int version);

using ContextPtr = std::shared_ptr<boost::asio::ssl::context>;

// ---- server_context.cpp, client_context.cpp
// Every context: no compression, no renegotiation, server cipher order, no
// session tickets or cache, TLS 1.3 never disabled (docs/tls-profiles.md).

// Server context with certificate chain (leaf first) and key, checked to
// match. nullptr + error on failure, e.g. "tls.certificate: cannot read /x:
// No such file or directory", "tls.key: /k does not match the certificate
// in /c", or a resolve_profile() error. No client certificates are asked for.
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

// ---- self_signed.cpp
// Creates a self-signed certificate and key (EC P-256, 1 year, CN and SAN =
// hostname, ECDSA-SHA256, random serial) if cert_file does not exist. For
// the development config. Key 0600, cert 0644, written atomically; missing
// parent directories are created 0700. An existing key_file is reused,
// never overwritten. true when cert_file exists afterwards.
bool ensure_self_signed(const std::string& cert_file, const std::string& key_file,
                        const std::string& hostname, std::string& error);

// ---- lab_certificates.cpp
// The server context of a `lab` listener: lab.certificate picks the
// certificate (valid = cert_file/key_file; self-signed, expired and
// wrong-name are generated into lab_dir at each call, the last two issued
// by a lab CA kept in lab_dir/ca.pem), lab.protocols the version range (on
// the compat profile; empty = `inbound` unchanged). Deliberately weak: for
// lab listeners only. nullptr + error on failure.
ContextPtr make_lab_server_context(const conf::LabConfig& lab, const conf::TlsProfile& inbound,
                                   const std::string& cert_file, const std::string& key_file,
                                   const std::string& hostname, const std::string& lab_dir, std::string& error);

// ---- certificate_checks.cpp
// "sha256:BASE64" of the certificate's SubjectPublicKeyInfo ("" for null).
std::string spki_pin(X509* cert);
// RFC 6125 §6.4 match of a certificate's DNS SANs (CN only without any DNS
// SAN) against a host name; case-insensitive, trailing dot ignored, "*" only
// as the whole left-most label and for exactly one label. An IP host
// ("192.0.2.1", "[IPv6:...]") matches iPAddress SANs only.
bool certificate_matches_host(X509* cert, std::string_view host);
// Entries: ".example.com" = the certificate names a strict subdomain (or a
// wildcard covering only subdomains); other entries = certificate_matches_host
// with the entry as the host (Postfix smtp_tls_verify_cert_match semantics;
// details in certificate_checks.cpp). Empty list = no match.
bool certificate_matches_list(X509* cert, const std::vector<std::string>& patterns);
// True when spki_pin(cert) is one of `pins` (exact, case-sensitive base64).
// [added by tlspolicy; additive]
bool certificate_matches_pins(X509* cert, const std::vector<std::string>& pins);

// ---- session_info.cpp
// What a finished handshake negotiated, for Received: and events.
struct SessionInfo {
    std::string version;       // "TLSv1.3"
    std::string cipher;        // "TLS_AES_256_GCM_SHA384"
    int bits = 0;
    std::string peer_subject;  // peer certificate subject (RFC 2253), "" if none
    std::string peer_pin;      // spki_pin of the peer certificate
    bool chain_verified = false;   // chain verified against the trust store
    std::string verify_error;      // X509 verify error text when not verified,
                                   // "no peer certificate" without one
};
// Works on either side; on a server (no client certificates) chain_verified
// is false. nullptr -> empty SessionInfo.
SessionInfo describe(SSL* ssl);

}  // namespace mxgate::tlspolicy
