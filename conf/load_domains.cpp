// conf/load_domains.cpp — `domains:`: the owner's domains, each with its
// recipients (a list, or {file: PATH}), its downstream ("home box": host:port
// or lmtp://host:port, TLS level, SPKI pins, optional AUTH) and DKIM signing.
#include "conf/detail.hpp"

namespace mxgate::conf::detail {
namespace {

constexpr std::string_view kLmtpScheme = "lmtp://";

void load_recipients(Ctx& c, const Entry& e, Domain& d, bool name_ok) {
    if (e.value.IsMap()) {
        const Section s(c.err, e, {"file"});
        if (!s.valid()) return;
        const Entry* f = s.find("file");
        if (f == nullptr) {
            c.err.at(e, e.path + ".file: required (or write the recipients as a list)");
            return;
        }
        const std::optional<std::string> path = as_string(c.err, *f);
        if (!path || !name_ok) return;
        d.recipients_file = *path;
        d.recipients = read_recipients_file(c.err, *path, d.name, *f);
        return;
    }
    const std::optional<std::vector<Entry>> items = as_list(c.err, e);
    if (!items) return;
    for (const Entry& item : *items) {
        const std::optional<std::string> v = as_string(c.err, item);
        if (!v) continue;
        const std::string addr = lower(*v);
        if (const std::string problem = address_problem(addr, true); !problem.empty())
            c.err.at(item, item.path + ": invalid recipient " + clip(*v) + ": " + problem);
        else if (name_ok && address_domain(addr) != d.name)
            c.err.at(item, item.path + ": recipient " + clip(*v) + " is not in domain " + d.name);
        else
            d.recipients.push_back(addr);
    }
}

std::optional<DownstreamAuth> load_downstream_auth(Ctx& c, const Entry& e) {
    const Section s(c.err, e, {"username", "password_file"});
    if (!s.valid()) return std::nullopt;
    DownstreamAuth auth;
    bool ok = true;
    if (const Entry* u = s.find("username")) {
        if (std::optional<std::string> v = as_string(c.err, *u)) auth.username = *v;
        else ok = false;
    } else {
        c.err.at(e, e.path + ".username: required");
        ok = false;
    }
    if (const Entry* p = s.find("password_file")) {
        if (std::optional<std::string> v = as_string(c.err, *p)) {
            auth.password_file = *v;
            if (!regular_file(*v)) {
                c.err.at(*p, p->path + ": no such file " + clip(*v));
                ok = false;
            }
        } else {
            ok = false;
        }
    } else {
        c.err.at(e, e.path + ".password_file: required");
        ok = false;
    }
    if (!ok) return std::nullopt;
    return auth;
}

void load_downstream(Ctx& c, const Entry& e, Downstream& ds) {
    const Section s(c.err, e, {"address", "tls", "pin", "auth"});
    if (!s.valid()) return;
    if (const Entry* a = s.find("address")) {
        if (std::optional<std::string> v = as_string(c.err, *a)) {
            std::string_view text = *v;
            if (lower(text.substr(0, kLmtpScheme.size())) == kLmtpScheme) {
                ds.lmtp = true;
                text.remove_prefix(kLmtpScheme.size());
            }
            if (std::optional<HostPort> hp = parse_host_port(text))
                ds.address = *hp;
            else
                c.err.at(*a, a->path + ": invalid address " + clip(*v) +
                                       " (expected host:port or lmtp://host:port, e.g. home.example.org:25)");
        }
    } else {
        c.err.at(e, e.path + ".address: required");
    }
    const Entry* tls = read_into(s, "tls", ds.tls, [&](const Entry& v) {
        return as_enum<DownstreamTls>(c.err, v, {{"verify", DownstreamTls::verify},
                                                 {"pin", DownstreamTls::pin},
                                                 {"encrypt", DownstreamTls::encrypt},
                                                 {"opportunistic", DownstreamTls::opportunistic},
                                                 {"none", DownstreamTls::none}});
    });
    const Entry* pin = s.find("pin");
    bool pins_ok = true;
    if (pin != nullptr) {
        if (std::optional<std::vector<Entry>> items = as_list(c.err, *pin)) {
            for (const Entry& item : *items) {
                const std::optional<std::string> v = as_string(c.err, item);
                if (!v) {
                    pins_ok = false;
                } else if (!valid_pin(*v)) {
                    pins_ok = false;
                    c.err.at(item, item.path + ": invalid pin " + clip(*v) +
                                             " (expected sha256: and the 44-character base64 SHA-256 of the "
                                             "SubjectPublicKeyInfo)");
                } else {
                    ds.pin.push_back(*v);
                }
            }
        } else {
            pins_ok = false;
        }
    }
    if (ds.tls == DownstreamTls::pin && ds.pin.empty() && pins_ok)
        c.err.at(*tls, tls->path + ": pin needs at least one entry in " + s.path() + ".pin");
    // Pins under another level would be silently unused: refuse them.
    if (ds.tls != DownstreamTls::pin && !ds.pin.empty())
        c.err.at(*pin, pin->path + ": pins are only used with tls: pin");
    if (const Entry* a = s.find("auth"); a != nullptr && !is_null(*a)) {
        ds.auth = load_downstream_auth(c, *a);
        // The client never sends a password without TLS; with tls: none it
        // never could, so the setting is a mistake.
        if (ds.tls == DownstreamTls::none)
            c.err.at(a->key, a->path + ": needs TLS to the downstream (tls: none would never send it)");
    }
}

std::optional<DkimSign> load_dkim(Ctx& c, const Entry& e) {
    const Section s(c.err, e, {"selector", "key"});
    if (!s.valid()) return std::nullopt;
    DkimSign dkim;
    if (const Entry* sel = s.find("selector")) {
        if (std::optional<std::string> v = as_string(c.err, *sel)) {
            // RFC 6376 §3.1: a selector is one or more DNS labels.
            if (const std::string problem = domain_name_problem(*v); !problem.empty())
                c.err.at(*sel, sel->path + ": invalid selector " + clip(*v) + ": " + problem);
            dkim.selector = lower(*v);
        }
    } else {
        c.err.at(e, e.path + ".selector: required");
    }
    if (read_into(s, "key", dkim.key, [&](const Entry& v) { return as_string(c.err, v); }) == nullptr)
        c.err.at(e, e.path + ".key: required");
    return dkim;
}

}  // namespace

void load_domains(Ctx& c, const Entry& e) {
    const std::optional<std::vector<Entry>> items = as_list(c.err, e);
    if (!items) return;
    for (const Entry& item : *items) {
        const Section s(c.err, item, {"name", "recipients", "downstream", "dkim"});
        if (!s.valid()) continue;
        Domain d;
        d.mark = c.err.mark(item.value);
        bool name_ok = false;
        if (const Entry* n = s.find("name")) {
            if (std::optional<std::string> v = as_string(c.err, *n)) {
                d.name = lower(*v);
                if (const std::string problem = domain_name_problem(d.name); !problem.empty()) {
                    c.err.at(*n, n->path + ": " + problem + ": " + clip(*v));
                } else if (c.cfg.find_domain(d.name) != nullptr) {
                    c.err.at(*n, n->path + ": duplicate domain " + d.name);
                } else {
                    name_ok = true;
                }
            }
        } else {
            c.err.at(item, item.path + ".name: required");
        }
        if (const Entry* r = s.find("recipients"))
            load_recipients(c, *r, d, name_ok);
        else
            c.err.at(item, item.path + ".recipients: required (a list, or file: PATH)");
        if (const Entry* ds = s.find("downstream"))
            load_downstream(c, *ds, d.downstream);
        else
            c.err.at(item, item.path + ".downstream: required (where mail for " +
                                     (name_ok ? d.name : std::string("this domain")) + " is relayed)");
        if (const Entry* k = s.find("dkim"); k != nullptr && !is_null(*k)) {
            d.dkim = load_dkim(c, *k);
            refuse_unbuilt(c.err, Feature::dkim_sign, k->value, k->path);
        }
        if (name_ok) c.cfg.domains.push_back(std::move(d));
    }
}

}  // namespace mxgate::conf::detail
