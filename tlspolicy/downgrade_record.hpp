// tlspolicy/downgrade_record.hpp — the pure half of the downgrade tracker
// (SPEC §7): a failed inbound handshake as a record, its on-disk text form,
// and the "same client" rule. No I/O and no Asio (fuzzed:
// tests/fuzz/downgrade_record_fuzz.cpp); DowngradeTracker (inbound.hpp)
// keeps these in memory and in the spool's StateStore.
//
// SECURITY: the record text is read back from the spool at start-up, and
// its fields (HELO, TLS error, offered lists) came from the peer. decode()
// accepts only the exact form encode() writes, with a real IP address.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace mxgate::tlspolicy {

struct HandshakeFailure {
    int64_t at = 0;  // unix seconds
    std::string client, helo, error, listener;
    std::string offered_versions, offered_ciphers;
};

// "v1\n<at>\n<client>\n<helo>\n<error>\n<listener>\n<versions>\n<ciphers>\n";
// CR and LF inside fields become spaces (a field is one line).
std::string encode_failure(const HandshakeFailure& f);
// nullopt unless `text` is such a record whose client is an IP address.
std::optional<HandshakeFailure> decode_failure(const std::string& text);

// The client's network for SPEC §7: its /24 (IPv4) or /64 (IPv6) in CIDR
// text ("192.0.2.0/24"); "" when `ip` is not an address. An IPv4-mapped
// IPv6 address counts as IPv4.
std::string client_network(const std::string& ip);
// SPEC §7 "same client": the same IP address, or the same HELO name (ASCII
// case-insensitive, non-empty) from the same /24 or /64.
bool same_client(const std::string& ip_a, const std::string& helo_a, const std::string& ip_b,
                 const std::string& helo_b);

}  // namespace mxgate::tlspolicy
