// conf/load_tls.cpp — `tls:`: certificate and key (and the development-only
// `self_signed` extension), ca_file, the inbound profile with its overrides,
// require_tls and dry_run, and the outbound default level, profile,
// fallback, per-domain policies and TLS-RPT. Unbuilt parts are parsed, then
// refused (features.cpp).
#include "conf/detail.hpp"

namespace mxgate::conf::detail {
namespace {

std::optional<TlsProfileName> as_profile_name(Ctx& c, const Entry& e) {
    return as_enum<TlsProfileName>(c.err, e, {{"strict", TlsProfileName::strict},
                                              {"modern", TlsProfileName::modern},
                                              {"intermediate", TlsProfileName::intermediate},
                                              {"compat", TlsProfileName::compat}});
}

// The profile name and its key-by-key overrides (SPEC §7), from a section
// that holds them among other keys.
void load_profile_keys(Ctx& c, const Section& s, TlsProfile& p) {
    read_into(s, "profile", p.name, [&](const Entry& e) { return as_profile_name(c, e); });
    if (const Entry* e = s.find("min_version")) {
        if (std::optional<std::string> v = as_string(c.err, *e)) {
            if (valid_tls_version(*v))
                p.min_version = *v;
            else
                c.err.at(*e, e->path + ": invalid TLS version " + clip(*v) +
                                       " (expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)");
        }
    }
    // Cipher strings are checked by OpenSSL when tlspolicy builds the context.
    read_into(s, "ciphers", p.ciphers, [&](const Entry& e) { return as_string(c.err, e); });
    read_into(s, "ciphersuites", p.ciphersuites, [&](const Entry& e) { return as_string(c.err, e); });
    read_into(s, "groups", p.groups, [&](const Entry& e) { return as_string(c.err, e); });
}

// dry_run, listeners[].tls_profile: a profile name, or a map of a profile and overrides.
std::optional<TlsProfile> profile_value(Ctx& c, const Entry& e) {
    TlsProfile p;
    if (e.value.IsScalar()) {
        std::optional<TlsProfileName> name = as_profile_name(c, e);
        if (!name) return std::nullopt;
        p.name = *name;
        return p;
    }
    const Section s(c.err, e, {"profile", "min_version", "ciphers", "ciphersuites", "groups"});
    if (!s.valid()) return std::nullopt;
    load_profile_keys(c, s, p);
    return p;
}

void load_require_tls(Ctx& c, const Entry& e, InboundTls& in) {
    const std::optional<std::vector<Entry>> items = as_list(c.err, e);
    if (!items) return;
    for (const Entry& item : *items) {
        const std::optional<std::string> v = as_string(c.err, item);
        if (!v) continue;
        // A network is written with digits and '.' or ':'; anything else is a sender domain.
        if (std::optional<Network> n = parse_network(*v)) {
            in.require_tls_networks.push_back(*n);
        } else if (const std::string name = lower(*v); domain_name_problem(name).empty()) {
            in.require_tls_domains.push_back(name);
        } else {
            c.err.at(item, item.path + ": " + clip(*v) +
                                     " is neither a sender domain nor a network (CIDR)");
        }
    }
}

void load_inbound(Ctx& c, const Entry& e) {
    InboundTls& in = c.cfg.tls.inbound;
    const Section s(c.err, e, {"profile", "min_version", "ciphers", "ciphersuites", "groups",
                               "require_tls", "dry_run"});
    if (!s.valid()) return;
    load_profile_keys(c, s, in.profile);
    if (const Entry* r = s.find("require_tls")) {
        load_require_tls(c, *r, in);
        if (!in.require_tls_domains.empty() || !in.require_tls_networks.empty())
            refuse_unbuilt(c.err, Feature::inbound_require_tls, r->value, r->path);
    }
    if (const Entry* d = s.find("dry_run"); d != nullptr && !is_null(*d)) {
        in.dry_run = profile_value(c, *d);
        refuse_unbuilt(c.err, Feature::inbound_dry_run, d->value, d->path);
    }
}

std::optional<OutboundLevel> as_level(Ctx& c, const Entry& e) {
    return as_enum<OutboundLevel>(c.err, e, {{"none", OutboundLevel::none},
                                             {"opportunistic", OutboundLevel::opportunistic},
                                             {"encrypt", OutboundLevel::encrypt},
                                             {"verify", OutboundLevel::verify},
                                             {"dane", OutboundLevel::dane},
                                             {"mta-sts", OutboundLevel::mta_sts}});
}

// Levels with TLS mandatory are separate features (each its own gate row).
void gate_level(Ctx& c, OutboundLevel level, const Entry& e) {
    const std::string what = e.path + ": " + e.value.Scalar();
    switch (level) {
        case OutboundLevel::none:
        case OutboundLevel::opportunistic: return;
        case OutboundLevel::encrypt: refuse_unbuilt(c.err, Feature::outbound_encrypt, e.value, what); return;
        case OutboundLevel::verify: refuse_unbuilt(c.err, Feature::outbound_verify, e.value, what); return;
        case OutboundLevel::dane: refuse_unbuilt(c.err, Feature::outbound_dane_level, e.value, what); return;
        case OutboundLevel::mta_sts:
            refuse_unbuilt(c.err, Feature::outbound_mta_sts_level, e.value, what);
            return;
    }
}

void load_policies(Ctx& c, const Entry& e, OutboundTls& out) {
    if (is_null(e)) return;
    if (!e.value.IsMap()) {
        c.err.at(e, e.path + ": expected a map of destination domain to policy");
        return;
    }
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
        if (!it->first.IsScalar()) {
            c.err.at(it->first, e.path + ": a destination domain must be a string");
            continue;
        }
        const std::string domain = lower(it->first.Scalar());
        const Entry item{e.path + "." + it->first.Scalar(), it->second, it->first};
        if (const std::string problem = domain_name_problem(domain); !problem.empty()) {
            c.err.at(it->first, item.path + ": " + problem);
            continue;
        }
        if (out.policies.count(domain) != 0) {
            c.err.at(it->first, item.path + ": duplicate destination domain");
            continue;
        }
        const Section s(c.err, item, {"level", "match", "profile"});
        if (!s.valid()) continue;
        DomainTlsPolicy p;
        read_into(s, "level", p.level, [&](const Entry& v) { return as_level(c, v); });
        // A per-domain level asks for the capability as much as `default` does.
        if (const Entry* l = s.find("level"); l != nullptr && l->value.IsScalar()) gate_level(c, p.level, *l);
        if (const Entry* m = s.find("match")) {
            if (std::optional<std::vector<Entry>> names = as_list(c.err, *m)) {
                for (const Entry& n : *names) {
                    const std::optional<std::string> v = as_string(c.err, n);
                    if (!v) continue;
                    const std::string name = lower(*v);
                    // ".example.com" matches any subdomain, not example.com itself.
                    const std::string_view bare = name[0] == '.' ? std::string_view(name).substr(1) : name;
                    if (const std::string problem = domain_name_problem(bare); !problem.empty())
                        c.err.at(n, n.path + ": " + problem + ": " + clip(*v));
                    else
                        p.match.push_back(name);
                }
            }
        }
        if (const Entry* pr = s.find("profile")) {
            if (std::optional<TlsProfileName> name = as_profile_name(c, *pr)) {
                p.profile = TlsProfile{};
                p.profile->name = *name;
            }
        }
        out.policies.emplace(domain, std::move(p));
    }
}

void load_tlsrpt(Ctx& c, const Entry& e, TlsRpt& rpt) {
    const Section s(c.err, e, {"enabled", "organization", "contact"});
    if (!s.valid()) return;
    gated_bool(c.err, s.find("enabled"), rpt.enabled, Feature::tlsrpt);
    read_into(s, "organization", rpt.organization, [&](const Entry& v) { return as_string(c.err, v); });
    read_into(s, "contact", rpt.contact, [&](const Entry& v) { return as_string(c.err, v); });
}

void load_outbound(Ctx& c, const Entry& e) {
    OutboundTls& out = c.cfg.tls.outbound;
    const Section s(c.err, e, {"default", "use_mta_sts", "use_dane", "profile", "min_version", "ciphers",
                               "ciphersuites", "groups", "fallback", "policies", "tlsrpt"});
    if (!s.valid()) return;
    if (const Entry* d = read_into(s, "default", out.default_level, [&](const Entry& v) { return as_level(c, v); }))
        if (d->value.IsScalar()) gate_level(c, out.default_level, *d);
    // "use_X: false" states the feature is off and is accepted; "true" asks for it.
    gated_bool(c.err, s.find("use_mta_sts"), out.use_mta_sts, Feature::use_mta_sts);
    gated_bool(c.err, s.find("use_dane"), out.use_dane, Feature::use_dane);
    load_profile_keys(c, s, out.profile);
    read_into(s, "fallback", out.fallback, [&](const Entry& v) {
        return as_enum<Fallback>(c.err, v, {{"plaintext-logged", Fallback::plaintext_logged},
                                            {"defer", Fallback::defer}});
    });
    if (const Entry* p = s.find("policies")) {
        load_policies(c, *p, out);
        if (!out.policies.empty()) refuse_unbuilt(c.err, Feature::outbound_policies, p->value, p->path);
    }
    if (const Entry* r = s.find("tlsrpt")) load_tlsrpt(c, *r, out.tlsrpt);
}

}  // namespace

std::optional<TlsProfile> load_profile_value(Ctx& c, const Entry& e) { return profile_value(c, e); }

void load_tls(Ctx& c, const Entry& e) {
    TlsConfig& tls = c.cfg.tls;
    const Section s(c.err, e, {"certificate", "key", "self_signed", "ca_file", "inbound", "outbound"});
    if (!s.valid()) return;
    if (const Entry* v = read_into(s, "certificate", tls.certificate, [&](const Entry& x) { return as_string(c.err, x); }))
        c.certificate_at = c.err.mark(v->value);
    if (const Entry* v = read_into(s, "key", tls.key, [&](const Entry& x) { return as_string(c.err, x); }))
        c.key_at = c.err.mark(v->value);
    if (const Entry* v = s.find("self_signed")) {
        const std::optional<bool> b = as_bool(c.err, *v);
        tls.generate_self_signed = b.value_or(false);
        c.self_signed_unknown = !b.has_value();
    }
    if (const Entry* v = read_into(s, "ca_file", tls.ca_file, [&](const Entry& x) { return as_string(c.err, x); })) {
        if (tls.ca_file != "system" && !regular_file(tls.ca_file))
            c.err.at(*v, v->path + ": no such file " + clip(tls.ca_file) + " (or write: system)");
    }
    if (const Entry* v = s.find("inbound")) load_inbound(c, *v);
    if (const Entry* v = s.find("outbound")) load_outbound(c, *v);
}

}  // namespace mxgate::conf::detail
