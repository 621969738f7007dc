// Builds a Snapshot: the TLS contexts one configuration load needs.
#include "relay/server/runtime.hpp"

namespace mxgate::server {

std::shared_ptr<const Snapshot> build_snapshot(std::shared_ptr<const conf::Config> cfg,
                                               std::vector<std::string>& errors) {
    auto snap = std::make_shared<Snapshot>();
    snap->config = cfg;
    const auto& tls = cfg->tls;
    bool needs_server_tls = false;
    for (const auto& l : cfg->listeners)
        if (l.tls != conf::ListenerTls::none) needs_server_tls = true;
    if (needs_server_tls) {
        std::string err;
        if (tls.generate_self_signed &&
            !tlspolicy::ensure_self_signed(tls.certificate, tls.key, cfg->hostname, err)) {
            errors.push_back("tls.self_signed: " + err);
            return nullptr;
        }
        snap->server_tls = tlspolicy::make_server_context(tls.inbound.profile, tls.certificate, tls.key, err);
        if (!snap->server_tls) {
            // Profile errors come as "ciphers: ..."; file errors name their key.
            errors.push_back(err.rfind("tls.", 0) == 0 ? err : "tls.inbound." + err);
            return nullptr;
        }
        // Inbound profiles per listener (issue 5): same certificate, own profile.
        for (const auto& l : cfg->listeners) {
            if (!l.tls_profile || l.tls == conf::ListenerTls::none) continue;
            auto ctx = tlspolicy::make_server_context(*l.tls_profile, tls.certificate, tls.key, err);
            if (!ctx) {
                errors.push_back(err.rfind("tls.", 0) == 0 ? err : "listener " + l.name + ": tls_profile." + err);
                return nullptr;
            }
            snap->listener_tls[l.name] = std::move(ctx);
        }
    }
    if (tls.inbound.dry_run) {
        std::string err;
        snap->dry_run = tlspolicy::DryRun::make(*tls.inbound.dry_run, err);
        if (!snap->dry_run) {
            errors.push_back("tls.inbound.dry_run: " + err);
            return nullptr;
        }
    }
    if (!build_lab_contexts(*snap, errors)) return nullptr;
    std::string err;
    snap->client_tls = tlspolicy::make_client_context(tls.outbound.profile, tls.ca_file, err);
    if (!snap->client_tls) {
        errors.push_back(err);
        return nullptr;
    }
    for (const auto& [domain, policy] : tls.outbound.policies) {
        if (!policy.profile) continue;
        auto ctx = tlspolicy::make_client_context(*policy.profile, tls.ca_file, err);
        if (!ctx) {
            errors.push_back("tls.outbound.policies." + domain + ".profile: " + err);
            return nullptr;
        }
        snap->policy_client_tls.emplace(domain, std::move(ctx));
    }
    return snap;
}

}  // namespace mxgate::server
