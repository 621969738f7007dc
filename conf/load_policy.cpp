// conf/load_policy.cpp — `auth:` (SASL, senders, networks, lockout) and
// `policy:` (SPF, DKIM, DMARC, spoofing, DNSBL, greylisting). Neither is
// built yet: their shapes are read into Config so that the types are checked
// today, and every key that asks for the capability is refused (features.cpp).
#include "conf/detail.hpp"

namespace mxgate::conf::detail {
namespace {

// A map of user name to list, e.g. auth.senders or auth.networks.
template <class T, class Read>
void load_user_map(Ctx& c, const Entry& e, std::map<std::string, std::vector<T>>& out, Read read) {
    if (is_null(e)) return;
    if (!e.value.IsMap()) {
        c.err.at(e, e.path + ": expected a map of user name to list");
        return;
    }
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
        if (!it->first.IsScalar() || it->first.Scalar().empty()) {
            c.err.at(it->first, e.path + ": a user name must be a non-empty string");
            continue;
        }
        const std::string user = it->first.Scalar();
        const Entry item{e.path + "." + user, it->second, it->first};
        if (out.count(user) != 0) {
            c.err.at(it->first, item.path + ": duplicate user");
            continue;
        }
        std::vector<T> values;
        if (std::optional<std::vector<Entry>> items = as_list(c.err, item))
            for (const Entry& v : *items)
                if (std::optional<T> t = read(v)) values.push_back(std::move(*t));
        out.emplace(user, std::move(values));
    }
}

std::optional<std::string> as_sender(Ctx& c, const Entry& e) {
    const std::optional<std::string> v = as_string(c.err, e);
    if (!v) return std::nullopt;
    const std::string addr = lower(*v);
    if (const std::string problem = address_problem(addr, true); !problem.empty()) {
        c.err.at(e, e.path + ": invalid sender " + clip(*v) + ": " + problem);
        return std::nullopt;
    }
    return addr;
}

void load_sasl(Ctx& c, const Entry& e, AuthConfig& auth) {
    const Section s(c.err, e, {"service", "mechanisms", "sasldb", "realm"});
    if (!s.valid()) return;
    read_into(s, "service", auth.sasl_service, [&](const Entry& v) { return as_string(c.err, v); });
    if (const Entry* m = s.find("mechanisms")) {
        if (std::optional<std::vector<std::string>> mechs = as_string_list(c.err, *m)) {
            if (mechs->empty()) c.err.at(*m, m->path + ": at least one mechanism is required");
            auth.mechanisms.clear();
            for (const std::string& mech : *mechs) {
                std::string upper = mech;
                for (char& ch : upper)
                    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
                auth.mechanisms.push_back(upper);
            }
        }
    }
    read_into(s, "sasldb", auth.sasldb, [&](const Entry& v) { return as_string(c.err, v); });
    if (const Entry* r = s.find("realm"); r != nullptr && !is_null(*r))
        auth.realm = as_string(c.err, *r);
}

void load_lockout(Ctx& c, const Entry& e, AuthConfig& auth) {
    const Section s(c.err, e, {"failures", "window", "duration"});
    if (!s.valid()) return;
    read_into(s, "failures", auth.lockout_failures, [&](const Entry& v) -> std::optional<int> {
        if (std::optional<int64_t> n = as_int(c.err, v, 1, 1000000)) return static_cast<int>(*n);
        return std::nullopt;
    });
    read_into(s, "window", auth.lockout_window, [&](const Entry& v) { return as_duration(c.err, v); });
    read_into(s, "duration", auth.lockout_duration, [&](const Entry& v) { return as_duration(c.err, v); });
}

// policy.dmarc.reports: { enabled, organization, contact, from }.
void load_dmarc_reports(Ctx& c, const Entry& e, DmarcReports& out) {
    const Section s(c.err, e, {"enabled", "organization", "contact", "from"});
    if (!s.valid()) return;
    read_into(s, "enabled", out.enabled, [&](const Entry& v) { return as_bool(c.err, v); });
    read_into(s, "organization", out.organization, [&](const Entry& v) -> std::optional<std::string> {
        const std::optional<std::string> o = as_string(c.err, v);
        if (!o) return std::nullopt;
        // It goes into a Subject: header and the XML: one printable line.
        for (const char ch : *o)
            if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
                c.err.at(v, v.path + ": control characters are not allowed");
                return std::nullopt;
            }
        if (o->size() > 200) {
            c.err.at(v, v.path + ": longer than 200 characters");
            return std::nullopt;
        }
        return o;
    });
    auto address = [&](const Entry& v) -> std::optional<std::string> {
        const std::optional<std::string> a = as_string(c.err, v);
        if (!a) return std::nullopt;
        const std::string addr = lower(*a);
        if (const std::string problem = address_problem(addr, false); !problem.empty()) {
            c.err.at(v, v.path + ": invalid address " + clip(*a) + ": " + problem);
            return std::nullopt;
        }
        return addr;
    };
    const Entry* contact = read_into(s, "contact", out.contact, address);
    read_into(s, "from", out.from, address);
    if (out.enabled && contact == nullptr)
        c.err.at(e, e.path + ".contact: required when enabled (the address report receivers can write to)");
}

}  // namespace

void load_auth(Ctx& c, const Entry& e) {
    AuthConfig& auth = c.cfg.auth;
    const Section s(c.err, e, {"sasl", "senders", "networks", "deny_networks", "lockout",
                               "on_cleartext_credentials"});
    if (!s.valid()) return;
    if (const Entry* v = s.find("sasl")) load_sasl(c, *v, auth);
    if (const Entry* v = s.find("senders"))
        load_user_map(c, *v, auth.senders, [&](const Entry& x) { return as_sender(c, x); });
    if (const Entry* v = s.find("networks"))
        load_user_map(c, *v, auth.networks, [&](const Entry& x) { return as_network(c.err, x); });
    if (const Entry* v = s.find("deny_networks")) {
        if (std::optional<std::vector<Entry>> items = as_list(c.err, *v))
            for (const Entry& item : *items)
                if (std::optional<Network> n = as_network(c.err, item)) auth.deny_networks.push_back(*n);
    }
    if (const Entry* v = s.find("lockout")) load_lockout(c, *v, auth);
    read_into(s, "on_cleartext_credentials", auth.on_cleartext_credentials, [&](const Entry& v) {
        return as_enum<CleartextAction>(c.err, v, {{"log", CleartextAction::log}, {"lock", CleartextAction::lock}});
    });
    // The whole section is one feature (AUTH on submission listeners).
    if (!s.empty()) refuse_unbuilt(c.err, Feature::auth, e.value, e.path);
}

void load_policy(Ctx& c, const Entry& e) {
    PolicyConfig& p = c.cfg.policy;
    const Section s(c.err, e, {"spf", "dkim", "dmarc", "own_domain_spoofing", "own_domain_senders", "dnsbl", "greylisting"});
    if (!s.valid()) return;
    if (const Entry* v = s.find("spf")) {
        const Section spf(c.err, *v, {"enabled"});
        gated_bool(c.err, spf.find("enabled"), p.spf, Feature::spf);
    }
    if (const Entry* v = s.find("dkim")) {
        const Section dkim(c.err, *v, {"verify"});
        gated_bool(c.err, dkim.find("verify"), p.dkim_verify, Feature::dkim_verify);
    }
    if (const Entry* v = s.find("dmarc")) {
        const Section dmarc(c.err, *v, {"enforce", "quarantine", "public_suffix_list", "reports"});
        gated_bool(c.err, dmarc.find("enforce"), p.dmarc_enforce, Feature::dmarc_enforce);
        if (const Entry* q = read_into(dmarc, "quarantine", p.quarantine, [&](const Entry& x) {
                return as_enum<Quarantine>(c.err, x, {{"header", Quarantine::header},
                                                      {"hold", Quarantine::hold},
                                                      {"reject", Quarantine::reject}});
            }))
            refuse_unbuilt(c.err, Feature::dmarc_quarantine, q->value, q->path);
        read_into(dmarc, "public_suffix_list", p.public_suffix_list,
                  [&](const Entry& x) { return as_string(c.err, x); });
        if (const Entry* r = dmarc.find("reports")) {
            load_dmarc_reports(c, *r, p.dmarc_reports);
            // Reports are made of DMARC verdicts: none without evaluation.
            if (p.dmarc_reports.enabled && !p.dmarc_enforce)
                c.err.at(*r, r->path + ".enabled: needs policy.dmarc.enforce: true (no DMARC verdict, nothing to report)");
        }
    }
    if (const Entry* o = read_into(s, "own_domain_spoofing", p.own_domain_spoofing, [&](const Entry& x) {
            return as_enum<SpoofAction>(c.err, x, {{"reject", SpoofAction::reject}});
        }))
        refuse_unbuilt(c.err, Feature::own_domain_spoofing, o->value, o->path);
    if (const Entry* v = s.find("own_domain_senders")) {
        if (std::optional<std::vector<Entry>> items = as_list(c.err, *v)) {
            for (const Entry& item : *items) {
                const std::optional<std::string> d = as_string(c.err, item);
                if (!d) continue;
                const std::string name = lower(*d);
                if (const std::string problem = domain_name_problem(name); !problem.empty())
                    c.err.at(item, item.path + ": " + problem + ": " + clip(*d));
                else
                    p.own_domain_senders.push_back(name);
            }
        }
    }
    if (const Entry* v = s.find("dnsbl")) {
        if (std::optional<std::vector<Entry>> items = as_list(c.err, *v)) {
            for (const Entry& item : *items) {
                const std::optional<std::string> zone = as_string(c.err, item);
                if (!zone) continue;
                const std::string name = lower(*zone);
                if (const std::string problem = domain_name_problem(name); !problem.empty())
                    c.err.at(item, item.path + ": " + problem + ": " + clip(*zone));
                else
                    p.dnsbl.push_back(name);
            }
            if (!items->empty()) refuse_unbuilt(c.err, Feature::dnsbl, v->value, v->path);
        }
    }
    if (const Entry* v = s.find("greylisting")) {
        const Section g(c.err, *v, {"enabled", "delay"});
        gated_bool(c.err, g.find("enabled"), p.greylisting, Feature::greylisting);
        read_into(g, "delay", p.greylisting_delay, [&](const Entry& x) { return as_duration(c.err, x); });
    }
}

}  // namespace mxgate::conf::detail
