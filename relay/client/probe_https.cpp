// relay/client/probe_https.cpp — fetch one MTA-STS policy over HTTPS (RFC
// 8461 §3.3): GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt, the
// certificate verified (chain against tls.ca_file, name = the policy host),
// no redirects followed, 64 KiB at most, one deadline for the whole fetch.
//
// XXX A deliberately small fetcher for the probe; the outbound mta-sts level
// will own the real fetcher and cache. Use that one when it lands.
#include <boost/asio/steady_timer.hpp>

#include "relay/client/connect.hpp"
#include "relay/client/probe_https.hpp"
#include "relay/net/smtp_stream.hpp"

namespace mxgate::client::probe {

namespace asio = boost::asio;

asio::awaitable<HttpsFetch> https_get(asio::any_io_executor ex, core::Resolver& resolver, std::string host,
                                      uint16_t port, std::string path, std::string ca_file, Duration timeout) {
    HttpsFetch f;
    std::string err;
    conf::TlsProfile profile;
    profile.name = conf::TlsProfileName::intermediate;
    auto ctx = tlspolicy::make_client_context(profile, ca_file, err);
    if (!ctx) {
        f.error = err;
        co_return f;
    }
    conf::HostPort hp{host, port};
    auto op = connect_host(ex, resolver, hp, timeout);
    ConnectResult c = co_await std::move(op);
    if (!c.socket) {
        f.error = c.error;
        co_return f;
    }
    net::SmtpStream stream(std::move(*c.socket));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto hs = co_await stream.handshake_client(*ctx, host, timeout);
    if (hs) {
        f.error = "TLS handshake with " + host + ": " + stream.last_tls_error();
        stream.close();
        co_return f;
    }
    const auto info = tlspolicy::describe(stream.native_ssl());
    X509* leaf = SSL_get0_peer_certificate(stream.native_ssl());
    f.chain_verified = info.chain_verified;
    f.name_matches = leaf && tlspolicy::certificate_matches_host(leaf, host);
    f.verify_error = info.verify_error;
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host +
                                "\r\nUser-Agent: mxgate-probe\r\nAccept: text/plain\r\nConnection: close\r\n\r\n";
    const auto wec = co_await stream.write(request, timeout);
    if (wec) {
        f.error = "write to " + host + ": " + wec.message();
        stream.close();
        co_return f;
    }
    // Read until the server closes; 64 KiB of body plus headers at most.
    constexpr size_t kMax = 80 * 1024;
    while (stream.buffered().size() < kMax) {
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= Duration::zero()) {
            f.error = "timeout reading from " + host;
            break;
        }
        const auto ec = co_await stream.fill(left, kMax);
        if (ec) {
            // eof, or a TLS "stream truncated" from servers that skip close_notify.
            if (ec != asio::error::eof && ec != asio::ssl::error::stream_truncated) {
                if (ec == asio::error::timed_out) f.error = "timeout reading from " + host;
                else if (stream.buffered().empty()) f.error = "read from " + host + ": " + ec.message();
            }
            break;
        }
    }
    const std::string raw(stream.buffered());
    stream.close();
    if (!f.error.empty()) co_return f;
    std::string perr;
    auto resp = parse_http_response(raw, perr);
    if (!resp) {
        f.error = "bad HTTP response from " + host + ": " + perr;
        co_return f;
    }
    f.ok = true;
    f.response = std::move(*resp);
    co_return f;
}

}  // namespace mxgate::client::probe
