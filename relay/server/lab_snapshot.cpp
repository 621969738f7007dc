// relay/server/lab_snapshot.cpp — the TLS contexts of `lab` listeners,
// built with the rest of a Snapshot (start and SIGHUP). Generated lab
// certificates and the lab CA live in <spool>/lab (tlspolicy/lab_certificates.cpp).
#include "relay/server/runtime.hpp"

namespace mxgate::server {

bool build_lab_contexts(Snapshot& snap, std::vector<std::string>& errors) {
    const conf::Config& cfg = *snap.config;
    for (const auto& l : cfg.listeners) {
        if (l.role != conf::ListenerRole::lab || l.tls == conf::ListenerTls::none) continue;
        const conf::LabConfig lab = l.lab.value_or(conf::LabConfig{});
        std::string err;
        auto ctx = tlspolicy::make_lab_server_context(lab, cfg.tls.inbound.profile, cfg.tls.certificate, cfg.tls.key,
                                                      cfg.hostname, cfg.spool + "/lab", err);
        if (!ctx) {
            errors.push_back("listeners." + l.name + ".lab: " + err);
            return false;
        }
        snap.lab_tls[l.name] = std::move(ctx);
    }
    return true;
}

}  // namespace mxgate::server
