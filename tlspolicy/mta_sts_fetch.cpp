// tlspolicy/mta_sts_fetch.cpp — the HTTPS GET of an MTA-STS policy with
// the shared HTTPS client (https_client.hpp; mta_sts_client.hpp says what
// is checked). One deadline for the whole fetch.
#include "tlspolicy/https_client.hpp"
#include "tlspolicy/mta_sts_client.hpp"
#include "relay/core/ascii.hpp"

namespace mxgate::tlspolicy {

namespace asio = boost::asio;

asio::awaitable<StsFetch> fetch_sts_policy(asio::any_io_executor ex, core::Resolver& resolver, ContextPtr ctx,
                                           std::string domain, StsFetchOptions opts) {
    StsFetch out;
    HttpsRequest rq;
    rq.host = "mta-sts." + core::ascii::to_lower(domain);
    rq.port = opts.port;
    rq.target = "/.well-known/mta-sts.txt";
    rq.body_limit = kStsMaxPolicyBytes;
    rq.timeout = opts.timeout;
    const std::string host = rq.host;
    auto pending = https_request(ex, resolver, std::move(ctx), std::move(rq));  // named: no co_await temporaries
    HttpsResponse res = co_await std::move(pending);
    if (!res.ok) {
        out.error = res.body_too_large
                        ? "policy from " + host + " exceeds " + std::to_string(kStsMaxPolicyBytes) + " bytes"
                        : res.error;
        co_return out;
    }
    const unsigned status = res.status;
    if (status >= 300 && status < 400) {
        out.error = "HTTP " + std::to_string(status) + " from " + host + " (redirects are not followed)";
        co_return out;
    }
    if (status != 200) {
        out.error = "HTTP " + std::to_string(status) + " from " + host;
        co_return out;
    }
    // §3.3: media type text/plain (parameters such as charset allowed).
    std::string ctype = core::ascii::to_lower(res.content_type);
    if (ctype.substr(0, 10) != "text/plain" || (ctype.size() > 10 && ctype[10] != ';' && ctype[10] != ' ')) {
        out.error = "policy from " + host + " has media type \"" + ctype + "\", not text/plain";
        co_return out;
    }
    out.body = std::move(res.body);
    out.ok = true;
    co_return out;
}

}  // namespace mxgate::tlspolicy
