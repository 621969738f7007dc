// relay/client/probe_impl.hpp — the Prober behind probe::run(); private to
// the probe_*.cpp files (see probe.hpp for the file map).
#pragma once

#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "relay/client/probe.hpp"
#include "relay/client/smtp_session.hpp"

namespace mxgate::client::probe {

using X509Ptr = std::shared_ptr<X509>;

// What one TLS connection attempt ended with.
struct TlsAttempt {
    bool reached = false;        // greeting, EHLO and STARTTLS 220 (or implicit TLS)
    bool established = false;    // handshake completed
    std::string error;           // why not
    tlspolicy::SessionInfo info; // when established
    X509Ptr leaf;                // the served certificate
    std::vector<X509Ptr> chain;  // as served, leaf first
};

// Printable ASCII only, at most max octets (evidence is peer text).
std::string sanitize(std::string_view s, size_t max = 300);

class Prober {
public:
    Prober(boost::asio::any_io_executor ex, core::Resolver& resolver, Options opts, Report& out)
        : ex_(std::move(ex)), resolver_(resolver), opts_(std::move(opts)), out_(out) {}
    boost::asio::awaitable<void> run();

private:
    void add(std::string id, std::string title, Status st, std::string evidence);

    // --- probe_session.cpp
    // Connected session with greeting and EHLO done; with implicit TLS the
    // handshake (default context) comes first. nullptr + error on failure.
    boost::asio::awaitable<std::unique_ptr<SmtpSession>> open_plain(std::string& error);
    // open_plain + STARTTLS + handshake with ctx (or implicit TLS with ctx).
    boost::asio::awaitable<TlsAttempt> try_tls(boost::asio::ssl::context& ctx);
    // A client context offering exactly [min, max] and `ciphers` (TLS <= 1.2,
    // @SECLEVEL=0 appended), verifying against opts_.ca_file without ever
    // aborting. nullptr + error when OpenSSL refuses the settings.
    std::shared_ptr<boost::asio::ssl::context> make_context(int min, int max, const std::string& ciphers,
                                                            std::string& error);
    boost::asio::awaitable<void> close(std::unique_ptr<SmtpSession>& s);

    // --- probe_plaintext.cpp
    boost::asio::awaitable<bool> check_plaintext();   // false: server unreachable
    boost::asio::awaitable<void> check_injection();
    boost::asio::awaitable<void> check_smuggling();

    // --- probe_tls.cpp
    boost::asio::awaitable<void> check_versions();
    boost::asio::awaitable<void> check_ciphers();
    boost::asio::awaitable<void> check_certificate();

    // --- probe_domain.cpp
    boost::asio::awaitable<void> check_domain();
    boost::asio::awaitable<void> check_mta_sts(const std::vector<std::string>& mx_hosts);
    boost::asio::awaitable<void> check_dane();
    boost::asio::awaitable<void> check_tlsrpt();

    boost::asio::any_io_executor ex_;
    core::Resolver& resolver_;
    Options opts_;
    Report& out_;
    std::string address_;      // the IP every connection goes to
    std::string sni_;          // "" for an IP literal
    bool starttls_ = false;    // offered in plaintext EHLO (or implicit TLS)
    TlsAttempt served_;        // the default-context handshake (certificate, DANE)
    bool dane_matched_ = false;
};

}  // namespace mxgate::client::probe
