// relay/smtp/connect_policy.hpp — pure helpers of the mx listener's client
// policies: DNSBL query names and answers, greylisting triplets.
//
// DNSBL (RFC 5782): the client address is looked up as an A record under
// each policy.dnsbl zone — IPv4 as its four octets reversed
// (192.0.2.1 → 1.2.0.192.zone), IPv6 as its 32 nibbles reversed (§2.4).
// An answer in 127.0.0.0/8 means listed (§2.3), except 127.255.255.0/24,
// which large lists use to report errors (e.g. a query through a public
// resolver), never a listing.
//
// Greylisting: the triplet is (client network, sender, recipient), the
// network being the client's /24 (IPv4) or /64 (IPv6), so a sender's
// retry from a neighbouring outbound relay still matches.
//
// SECURITY: the zone comes from the configuration, the address from the
// socket, sender and recipient from the peer (lower-cased, stored only as a
// key of the state store, which percent-encodes keys).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxgate::smtp {

// The A-record name to ask, or nullopt when `ip` is not an IP address or
// the zone is empty. A v4-mapped IPv6 address is looked up as IPv4.
std::optional<std::string> dnsbl_query_name(std::string_view ip, std::string_view zone);

enum class DnsblAnswer { listed, not_listed, list_error };
// Classifies one A answer (dotted quad) of a DNSBL query.
DnsblAnswer classify_dnsbl_answer(std::string_view a_record);

// "192.0.2.0/24|sender|recipient" (sender "" for the null sender).
std::optional<std::string> greylist_key(std::string_view ip, std::string_view sender, std::string_view recipient);

}  // namespace mxgate::smtp
