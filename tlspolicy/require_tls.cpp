// tlspolicy/require_tls.cpp — tls.inbound.require_tls (SPEC §7): plaintext
// MAIL from a listed sender domain or client network gets 530 5.7.0.
//
// A listed domain covers its subdomains too ("bank.example" also requires
// TLS of "mail.bank.example"): refusing more is the strict reading, and a
// partner's subdomains are normally theirs as well.
//
// SECURITY: the envelope sender is claimed, not proven; require_tls keys on
// it only to refuse, never to grant anything.
#include <boost/asio/ip/address.hpp>

#include "tlspolicy/detail.hpp"
#include "tlspolicy/inbound.hpp"

namespace mxgate::tlspolicy {

std::string sender_domain(const std::string& address) {
    const auto at = address.rfind('@');
    if (at == std::string::npos || at + 1 >= address.size()) return {};
    std::string d = detail::ascii_lower(address.substr(at + 1));
    if (!d.empty() && d.back() == '.') d.pop_back();
    return d;
}

std::string require_tls_match(const conf::InboundTls& in, const std::string& client_ip, const std::string& sender) {
    if (!in.require_tls_networks.empty()) {
        boost::system::error_code ec;
        auto addr = boost::asio::ip::make_address(client_ip, ec);
        if (!ec) {
            if (addr.is_v6() && addr.to_v6().is_v4_mapped())
                addr = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6());
            std::array<uint8_t, 16> bytes{};
            if (addr.is_v4()) {
                const auto b = addr.to_v4().to_bytes();
                std::copy(b.begin(), b.end(), bytes.begin());
            } else {
                bytes = addr.to_v6().to_bytes();
            }
            for (const conf::Network& n : in.require_tls_networks)
                if (n.contains(bytes, addr.is_v6())) return "client network " + n.text;
        }
    }
    const std::string domain = sender_domain(sender);
    if (domain.empty()) return {};
    for (const std::string& d : in.require_tls_domains) {
        if (domain == d) return "sender domain " + d;
        if (domain.size() > d.size() && domain.compare(domain.size() - d.size(), d.size(), d) == 0 &&
            domain[domain.size() - d.size() - 1] == '.')
            return "sender domain " + d;
    }
    return {};
}

}  // namespace mxgate::tlspolicy
