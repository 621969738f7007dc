// tlspolicy/https_client.hpp — one HTTPS request with Boost.Beast, for the
// MTA-STS policy fetch (GET, RFC 8461 §3.3) and TLS-RPT report upload
// (POST, RFC 8460 §5.4). The server's certificate must chain to the trust
// store of `ctx` (tls.ca_file) and name the host; redirects are not
// followed (the caller sees the 3xx status). One deadline covers the whole
// exchange (Beast tcp_stream expiry); the response body is limited.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "relay/core/resolver.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {

struct HttpsRequest {
    std::string host;                 // DNS name (lower-case); certificate must name it
    uint16_t port = 443;
    bool post = false;                // GET otherwise
    std::string target = "/";         // path and query
    std::string content_type;         // POST only
    std::string body;                 // POST only
    size_t body_limit = 64 * 1024;    // response body
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(30);
};

struct HttpsResponse {
    bool ok = false;                  // a response was read (any status)
    unsigned status = 0;
    std::string content_type;
    std::string body;
    bool body_too_large = false;
    std::string error;                // "no address for ...", "connect to ...", "certificate of ... not verified: ..."
};

boost::asio::awaitable<HttpsResponse> https_request(boost::asio::any_io_executor ex, core::Resolver& resolver,
                                                    ContextPtr ctx, HttpsRequest req);

}  // namespace mxgate::tlspolicy
