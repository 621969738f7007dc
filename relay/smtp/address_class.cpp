// relay/smtp/address_class.cpp — open-relay address form detection (see
// address_class.hpp).
#include "relay/smtp/address_class.hpp"

#include <string>

namespace mxgate::smtp {

uint32_t classify_relay(const Path& p) {
    namespace rf = relay_form;
    uint32_t f = rf::none;
    if (p.null || p.postmaster) return f;  // "<postmaster>": RFC 5321 §4.5.1, routed by policy
    const std::string& lp = p.local_part;
    if (p.quoted_local) {
        if (lp.find_first_of("@%!") != std::string::npos) f |= rf::quoted_routing;
    } else {
        if (lp.find('%') != std::string::npos) f |= rf::percent_hack;
        if (lp.find('!') != std::string::npos) f |= rf::bang_path;
    }
    if (p.has_route()) f |= rf::source_route;
    if (p.address_literal) f |= rf::address_literal;
    if (p.trailing_dot) f |= rf::trailing_dot;
    if (!p.has_at || p.domain.empty()) f |= rf::no_domain;
    return f;
}

std::string relay_form_names(uint32_t forms) {
    namespace rf = relay_form;
    static constexpr struct {
        uint32_t bit;
        const char* name;
    } kNames[] = {
        {rf::percent_hack, "percent_hack"}, {rf::bang_path, "bang_path"},
        {rf::quoted_routing, "quoted_routing"}, {rf::source_route, "source_route"},
        {rf::address_literal, "address_literal"}, {rf::trailing_dot, "trailing_dot"},
        {rf::no_domain, "no_domain"},
    };
    std::string out;
    for (const auto& n : kNames) {
        if ((forms & n.bit) == 0) continue;
        if (!out.empty()) out += ',';
        out += n.name;
    }
    return out;
}

}  // namespace mxgate::smtp
