// conf/load_listeners.cpp — `listeners:`: name, role, address, tls and the
// lab block. Every listener is parsed fully, then refused if its role is not
// built, so enabling a role later is one line in features.cpp.
#include "conf/detail.hpp"

namespace mxgate::conf::detail {
namespace {

std::optional<LabConfig> load_lab(Ctx& c, const Entry& e) {
    const Section s(c.err, e, {"starttls", "protocols", "certificate", "auth_trap"});
    if (!s.valid()) return std::nullopt;
    LabConfig lab;
    read_into(s, "starttls", lab.starttls, [&](const Entry& v) {
        using S = LabConfig::StartTls;
        return as_enum<S>(c.err, v, {{"strip", S::strip}, {"refuse-454", S::refuse_454},
                                     {"fail-handshake", S::fail_handshake}, {"offer", S::offer}});
    });
    if (const Entry* p = s.find("protocols")) {
        if (std::optional<std::vector<Entry>> items = as_list(c.err, *p)) {
            for (const Entry& item : *items) {
                std::optional<std::string> v = as_string(c.err, item);
                if (!v) continue;
                if (!valid_tls_version(*v))
                    c.err.at(item, item.path + ": invalid TLS version " + clip(*v) +
                                             " (expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)");
                else
                    lab.protocols.push_back(*v);
            }
        }
    }
    read_into(s, "certificate", lab.certificate, [&](const Entry& v) {
        using C = LabConfig::Certificate;
        return as_enum<C>(c.err, v, {{"expired", C::expired}, {"self-signed", C::self_signed},
                                     {"wrong-name", C::wrong_name}, {"valid", C::valid}});
    });
    read_into(s, "auth_trap", lab.auth_trap, [&](const Entry& v) { return as_bool(c.err, v); });
    return lab;
}

}  // namespace

void load_listeners(Ctx& c, const Entry& e) {
    const std::optional<std::vector<Entry>> items = as_list(c.err, e);
    if (!items) return;
    if (items->empty()) {
        c.err.at(e, e.path + ": at least one listener is required");
        return;
    }
    for (const Entry& item : *items) {
        const Section s(c.err, item, {"name", "role", "address", "tls", "lab", "tls_profile"});
        if (!s.valid()) continue;
        Listener l;
        l.mark = c.err.mark(item.value);
        bool ok = true;

        const Entry* name = s.find("name");
        if (name == nullptr) {
            c.err.at(item, item.path + ".name: required");
            ok = false;
        } else if (std::optional<std::string> v = as_string(c.err, *name)) {
            l.name = *v;
        } else {
            ok = false;
        }
        const Entry* role = read_into(s, "role", l.role, [&](const Entry& v) {
            return as_enum<ListenerRole>(c.err, v, {{"mx", ListenerRole::mx},
                                                    {"submission", ListenerRole::submission},
                                                    {"lab", ListenerRole::lab}});
        });
        const Entry* address = s.find("address");
        if (address == nullptr) {
            c.err.at(item, item.path + ".address: required");
            ok = false;
        } else if (std::optional<HostPort> hp = as_host_port(c.err, *address)) {
            l.address = *hp;
        } else {
            ok = false;
        }
        const Entry* tls = read_into(s, "tls", l.tls, [&](const Entry& v) {
            return as_enum<ListenerTls>(c.err, v, {{"none", ListenerTls::none},
                                                   {"starttls", ListenerTls::starttls},
                                                   {"implicit", ListenerTls::implicit}});
        });
        if (const Entry* p = s.find("tls_profile"); p != nullptr && !is_null(*p)) {
            l.tls_profile = load_profile_value(c, *p);
            if (l.tls == ListenerTls::none)
                c.err.at(p->key, p->path + ": the listener has tls: none");
        }
        if (const Entry* lab = s.find("lab")) {
            l.lab = load_lab(c, *lab);
            if (l.role != ListenerRole::lab)
                c.err.at(lab->key, lab->path + ": only allowed with role: lab");
        }

        // Feature gates, after the whole listener has been checked.
        if (role != nullptr && l.role == ListenerRole::submission)
            refuse_unbuilt(c.err, Feature::submission_listener, role->value, role->path + ": submission");
        // SPEC §5: submission takes passwords, only ever over TLS.
        if (l.role == ListenerRole::submission && l.tls == ListenerTls::none && tls != nullptr)
            c.err.at(tls->value, tls->path + ": none is not allowed for role submission "
                                             "(AUTH is only accepted over TLS)");
        if (role != nullptr && l.role == ListenerRole::lab) {
            refuse_unbuilt(c.err, Feature::lab_listener, role->value, role->path + ": lab");
            if (!l.lab) l.lab = LabConfig{};
        }

        // Names and addresses are unique: events and `mxgate status` name
        // listeners, and two sockets cannot bind one address.
        for (const Listener& other : c.cfg.listeners) {
            if (name != nullptr && !l.name.empty() && other.name == l.name)
                c.err.at(*name, name->path + ": duplicate listener name " + clip(l.name));
            if (address != nullptr && ok && other.address.text() == l.address.text())
                c.err.at(*address, address->path + ": address " + l.address.text() +
                                             " is already used by listener " + clip(other.name));
        }
        c.cfg.listeners.push_back(std::move(l));
    }
}

}  // namespace mxgate::conf::detail
