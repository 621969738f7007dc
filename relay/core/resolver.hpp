// relay/core/resolver.hpp — the one DNS interface every lookup goes through.
//
// Interface: query(name, type) is awaitable and returns the raw RDATA of the
// answer (uncompressed wire format) plus the status and whether the answer
// was DNSSEC-authenticated (AD bit trusted from a local validating resolver,
// or validated by libunbound itself, per dns.dnssec). Typed helpers parse
// MX, A, AAAA, TXT and TLSA RDATA (pure functions: fuzzed). Implementations:
// UnboundResolver (libunbound, async, integrated with Asio; dns.resolver
// selects the server) and StaticResolver (a zone table, for unit tests).
//
// SECURITY: every byte of RDATA is attacker-controlled; parsers check every
// length before reading. Temporary failures stay distinct from NXDOMAIN
// and NODATA all the way to a 4xx reply (never a silent pass).
// RFCs: 1035 (wire format), 3596 (AAAA), 6698 (TLSA), 4035 (AD bit).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "relay/core/dns_rdata.hpp"

namespace mxgate::core {

enum class DnsStatus { ok, nxdomain, nodata, temp_fail };

namespace rrtype {
inline constexpr uint16_t A = 1, MX = 15, TXT = 16, AAAA = 28, TLSA = 52, CNAME = 5, PTR = 12;
}

struct DnsReply {
    DnsStatus status = DnsStatus::temp_fail;
    bool authenticated = false;          // DNSSEC secure
    std::vector<std::string> rdata;      // raw RDATA, one per record
    std::string error;                   // for temp_fail
    std::string canonical_name;          // after CNAME chasing, if any
    // Seconds the answer may still be reused (its TTL; RFC 2308 for
    // NXDOMAIN/NODATA); 0 = do not reuse. Set by the libunbound resolver.
    uint32_t ttl = 0;
};

// MxRecord, TlsaRecord and the parse_* functions live in dns_rdata.hpp.

template <class T>
struct DnsResult {
    DnsStatus status = DnsStatus::temp_fail;
    bool authenticated = false;
    std::vector<T> records;
    std::string error;
};

class Resolver {
public:
    virtual ~Resolver() = default;
    virtual boost::asio::awaitable<DnsReply> query(std::string name, uint16_t type) = 0;
    // An answer this resolver already has and may reuse (within its TTL),
    // without any I/O; thread-safe, so a check-pool worker can ask it
    // without a hand-off to the I/O thread. nullopt: ask query().
    virtual std::optional<DnsReply> cached(const std::string& name, uint16_t type) const {
        (void)name;
        (void)type;
        return std::nullopt;
    }
};

// Typed lookups built on Resolver::query. Malformed records are skipped
// (and a reply with only malformed records is temp_fail, not nodata).
boost::asio::awaitable<DnsResult<MxRecord>> lookup_mx(Resolver& r, std::string name);
boost::asio::awaitable<DnsResult<std::string>> lookup_a(Resolver& r, std::string name);     // dotted quad
boost::asio::awaitable<DnsResult<std::string>> lookup_aaaa(Resolver& r, std::string name);  // RFC 5952 text
boost::asio::awaitable<DnsResult<std::string>> lookup_txt(Resolver& r, std::string name);   // strings joined
boost::asio::awaitable<DnsResult<TlsaRecord>> lookup_tlsa(Resolver& r, std::string name);

// The libunbound-backed resolver. dns.resolver = nullopt uses /etc/resolv.conf.
// Throws std::runtime_error when libunbound rejects the configuration
// (e.g. dns.resolver is not an IP address). See docs/dns.md.
std::shared_ptr<Resolver> make_unbound_resolver(boost::asio::any_io_executor ex,
                                                const conf::DnsConfig& cfg);

// Tuning for make_unbound_resolver that is not part of the YAML contract
// (added for tests and the CLI; the two-argument form uses the defaults).
struct UnboundOptions {
    // Every query completes within this time; after it, temp_fail.
    std::chrono::milliseconds timeout = std::chrono::seconds(10);
    // dnssec: validate only. "" = /usr/share/dns/root.key when present,
    // else the built-in root KSK DS (see unbound_resolver.cpp).
    std::string trust_anchor_file;
};
std::shared_ptr<Resolver> make_unbound_resolver(boost::asio::any_io_executor ex,
                                                const conf::DnsConfig& cfg,
                                                const UnboundOptions& opts);

// A static zone table for unit tests: (lower-case name, type) -> reply.
class StaticResolver final : public Resolver {
public:
    void add(std::string name, uint16_t type, DnsReply reply);
    void add_record(std::string name, uint16_t type, std::string rdata);
    boost::asio::awaitable<DnsReply> query(std::string name, uint16_t type) override;
private:
    std::map<std::pair<std::string, uint16_t>, DnsReply> zone_;
};

}  // namespace mxgate::core
