// relay/core/dns_lookup.cpp — typed lookups (MX, A, AAAA, TXT, TLSA) on top
// of Resolver::query.
//
// Interface: lookup_mx/a/aaaa/txt/tlsa from resolver.hpp. Each runs one
// query, parses every record with the pure parsers of dns_rdata.cpp and
// returns the records with the reply's status and AD flag.
//
// SECURITY: records that do not parse are dropped, never passed on half
// read. A NOERROR reply whose every record is malformed becomes temp_fail
// (not nodata): "the domain publishes nothing" must never be concluded
// from bytes we could not read, or a broken or spoofed answer would turn
// into a silent pass (e.g. SPF "none", no DANE).
// RFCs: 1035, 5321 §5.1 (MX preference order), 7505 (null MX).
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "relay/core/resolver.hpp"

namespace mxgate::core {
namespace {

// Runs one query and parses its records with `parse`.
template <class T, class Parse>
boost::asio::awaitable<DnsResult<T>> typed_lookup(Resolver& r, std::string name, uint16_t type,
                                                   Parse parse) {
    DnsReply reply = co_await r.query(std::move(name), type);
    DnsResult<T> out;
    out.status = reply.status;
    out.authenticated = reply.authenticated;
    out.error = std::move(reply.error);
    if (reply.status != DnsStatus::ok) co_return out;
    if (reply.rdata.empty()) {  // NOERROR without records is NODATA
        out.status = DnsStatus::nodata;
        co_return out;
    }
    size_t malformed = 0;
    for (const std::string& rd : reply.rdata) {
        if (std::optional<T> rec = parse(std::string_view(rd)))
            out.records.push_back(std::move(*rec));
        else
            ++malformed;
    }
    if (out.records.empty()) {
        out.status = DnsStatus::temp_fail;
        out.authenticated = false;
        out.error = "all " + std::to_string(malformed) + " records in the reply are malformed";
    }
    co_return out;
}

}  // namespace

boost::asio::awaitable<DnsResult<MxRecord>> lookup_mx(Resolver& r, std::string name) {
    auto res = co_await typed_lookup<MxRecord>(r, std::move(name), rrtype::MX, parse_mx_rdata);
    // RFC 5321 §5.1: lowest preference first; stable so equal preferences
    // keep the server's order (callers may shuffle them).
    std::stable_sort(res.records.begin(), res.records.end(),
                     [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
    co_return res;
}

boost::asio::awaitable<DnsResult<std::string>> lookup_a(Resolver& r, std::string name) {
    // named locals: GCC 12 miscompiles co_return co_await (docs/design.md)
    auto op = typed_lookup<std::string>(r, std::move(name), rrtype::A, parse_a_rdata);
    auto result = co_await std::move(op);
    co_return result;
}

boost::asio::awaitable<DnsResult<std::string>> lookup_aaaa(Resolver& r, std::string name) {
    // named locals: GCC 12 miscompiles co_return co_await (docs/design.md)
    auto op = typed_lookup<std::string>(r, std::move(name), rrtype::AAAA, parse_aaaa_rdata);
    auto result = co_await std::move(op);
    co_return result;
}

boost::asio::awaitable<DnsResult<std::string>> lookup_txt(Resolver& r, std::string name) {
    // named locals: GCC 12 miscompiles co_return co_await (docs/design.md)
    auto op = typed_lookup<std::string>(r, std::move(name), rrtype::TXT, parse_txt_rdata);
    auto result = co_await std::move(op);
    co_return result;
}

boost::asio::awaitable<DnsResult<TlsaRecord>> lookup_tlsa(Resolver& r, std::string name) {
    // named locals: GCC 12 miscompiles co_return co_await (docs/design.md)
    auto op = typed_lookup<TlsaRecord>(r, std::move(name), rrtype::TLSA, parse_tlsa_rdata);
    auto result = co_await std::move(op);
    co_return result;
}

}  // namespace mxgate::core
