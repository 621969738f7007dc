// tests/unit/client/harness.hpp — shared helpers for the client session
// tests: certificates (openssl CLI), envelopes, running a courier on an
// io_context, and a real Postfix smtp-sink child process.
#pragma once

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "relay/client/client.hpp"

namespace mxgate::clienttest {

// Test PKI under a temp dir, made once per process: a CA, leaves for
// home.test and other.test signed by it, and a self-signed home.test.
struct Pki {
    std::string dir;
    std::string ca_cert;
    std::string home_cert, home_key;      // CA-signed, SAN home.test
    std::string other_cert, other_key;    // CA-signed, SAN other.test
    std::string self_cert, self_key;      // self-signed, SAN home.test
};
const Pki& pki();
std::string pin_of(const std::string& cert_file);   // "sha256:..."

tlspolicy::ContextPtr server_ctx(const std::string& cert, const std::string& key);
tlspolicy::ContextPtr client_ctx(const std::string& ca_file);

spool::Envelope make_envelope(const std::vector<std::string>& rcpts, std::string prepend, const std::string& body);

// Runs deliver() for each body on one courier and one connection, then
// close(). Stops the io_context afterwards.
std::vector<client::DeliveryOutcome> run_deliveries(boost::asio::io_context& ioc,
                                                    client::DownstreamCourier& courier,
                                                    const std::vector<spool::Envelope>& envs,
                                                    const std::vector<std::string>& bodies,
                                                    bool* conn_kept_after_first = nullptr);

// A free loopback TCP port (bound and released).
uint16_t free_port();

// Postfix smtp-sink on 127.0.0.1:port dumping each message under dir.
class SmtpSink {
public:
    explicit SmtpSink(std::vector<std::string> extra_args);
    ~SmtpSink();
    bool running() const { return pid_ > 0; }
    uint16_t port() const { return port_; }
    // Contents of the dump files, sorted by name (order of arrival within a
    // second is not guaranteed; tests compare sets).
    std::vector<std::string> dumps() const;

private:
    int pid_ = -1;
    uint16_t port_ = 0;
    std::string dir_;
};

}  // namespace mxgate::clienttest
