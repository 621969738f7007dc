// relay/smtp/recipient_policy.cpp — owner-domain and recipient-list checks
// (see recipient_policy.hpp).
#include "relay/smtp/recipient_policy.hpp"

#include <string_view>

#include "relay/smtp/address_class.hpp"
#include "relay/smtp/ascii.hpp"
#include "relay/smtp/replies.hpp"

namespace mxgate::smtp {
namespace {

const conf::Domain* owner_domain(const conf::Config& cfg, std::string_view domain) {
    for (const auto& d : cfg.domains)
        if (ascii::iequals(d.name, domain)) return &d;
    return nullptr;
}

// One `recipients` entry against local@domain: "@domain" matches the whole
// domain, "local@domain" the one address (split at the last '@').
bool entry_matches(std::string_view entry, std::string_view local, std::string_view domain) {
    const size_t at = entry.rfind('@');
    if (at == std::string_view::npos) return false;
    if (!ascii::iequals(entry.substr(at + 1), domain)) return false;
    return at == 0 || ascii::iequals(entry.substr(0, at), local);
}

RecipientDecision accept(const conf::Domain* d) {
    RecipientDecision r;
    r.kind = RecipientDecision::Kind::accept;
    r.domain = d;
    r.reply = replies::recipient_ok();
    return r;
}

}  // namespace

RecipientDecision check_recipient(const conf::Config& cfg, const Path& path) {
    RecipientDecision denied;
    denied.kind = RecipientDecision::Kind::relay_denied;
    denied.reply = replies::relay_denied();

    if (path.null) return denied;  // the parser refuses RCPT TO:<>; be safe anyway

    if (path.postmaster) {  // RFC 5321 §4.5.1
        if (cfg.domains.empty()) return denied;
        return accept(&cfg.domains.front());
    }

    denied.relay_forms = classify_relay(path);
    if (denied.relay_forms != relay_form::none) return denied;

    const conf::Domain* d = owner_domain(cfg, path.domain);
    if (d == nullptr) return denied;

    if (!path.quoted_local && ascii::iequals(path.local_part, "postmaster")) return accept(d);  // §4.5.1
    for (const auto& entry : d->recipients)
        if (entry_matches(entry, path.local_part, path.domain)) return accept(d);

    RecipientDecision unknown;
    unknown.kind = RecipientDecision::Kind::unknown_user;
    unknown.domain = d;
    unknown.reply = replies::user_unknown();
    return unknown;
}

}  // namespace mxgate::smtp
