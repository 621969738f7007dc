#include "auth/senders.hpp"
#include "relay/core/ascii.hpp"

#include <string>

namespace mxgate::auth {
bool sender_allowed(const conf::AuthConfig& cfg, std::string_view user, std::string_view address) {
    const auto it = cfg.senders.find(std::string(user));
    if (it == cfg.senders.end()) return false;
    const size_t at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
    const std::string addr = core::ascii::to_lower(address);
    const std::string domain = addr.substr(at);  // "@domain"
    for (const std::string& allowed : it->second) {
        if (allowed.empty()) continue;
        if (allowed.front() == '@' ? allowed == domain : allowed == addr) return true;
    }
    return false;
}

}  // namespace mxgate::auth
