// relay/core/static_resolver.cpp — StaticResolver, the Resolver fake: a
// zone table of (name, type) -> reply for unit tests (like Postfix's
// testing/mock_dns_lookup.c).
//
// Interface: add() stores a whole DnsReply (any status, e.g. temp_fail);
// add_record() appends one RDATA to an ok reply. query() answers from the
// table: a known (name, type) gets its reply, a name known only with other
// types gets nodata, an unknown name gets nxdomain. Names are compared
// lower-case without a trailing dot (RFC 1035 §2.3.3: case-insensitive).
//
// SECURITY: test-only; it never touches the network.
#include <boost/asio/this_coro.hpp>
#include <string>
#include <utility>

#include "relay/core/resolver.hpp"

namespace mxgate::core {
namespace {

std::string normalize(std::string name) {
    for (char& c : name)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!name.empty() && name.back() == '.') name.pop_back();
    return name;
}

}  // namespace

void StaticResolver::add(std::string name, uint16_t type, DnsReply reply) {
    zone_[{normalize(std::move(name)), type}] = std::move(reply);
}

void StaticResolver::add_record(std::string name, uint16_t type, std::string rdata) {
    DnsReply& r = zone_[{normalize(std::move(name)), type}];
    r.status = DnsStatus::ok;
    r.error.clear();
    r.rdata.push_back(std::move(rdata));
}

boost::asio::awaitable<DnsReply> StaticResolver::query(std::string name, uint16_t type) {
    const std::string key = normalize(std::move(name));
    if (auto it = zone_.find({key, type}); it != zone_.end()) co_return it->second;
    // The map is ordered by (name, type): any entry for this name sorts at
    // or after (key, 0).
    if (auto it = zone_.lower_bound({key, 0}); it != zone_.end() && it->first.first == key) {
        DnsReply nodata;
        nodata.status = DnsStatus::nodata;
        co_return nodata;
    }
    DnsReply nx;
    nx.status = DnsStatus::nxdomain;
    co_return nx;
}

}  // namespace mxgate::core
