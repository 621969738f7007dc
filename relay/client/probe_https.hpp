// relay/client/probe_https.hpp — the probe's small HTTPS GET for MTA-STS
// policies (probe_https.cpp says why it is small and what replaces it).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <string>

#include "relay/client/client.hpp"
#include "relay/client/probe_records.hpp"
#include "relay/core/resolver.hpp"

namespace mxgate::client::probe {

struct HttpsFetch {
    bool ok = false;              // a parsed HTTP response arrived
    std::string error;            // connection, TLS or HTTP syntax failure
    bool chain_verified = false;  // against ca_file
    bool name_matches = false;    // certificate names `host`
    std::string verify_error;
    HttpResponse response;
};

boost::asio::awaitable<HttpsFetch> https_get(boost::asio::any_io_executor ex, core::Resolver& resolver,
                                             std::string host, uint16_t port, std::string path,
                                             std::string ca_file, Duration timeout);

}  // namespace mxgate::client::probe
