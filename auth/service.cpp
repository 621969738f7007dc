#include "auth/service.hpp"

#include <ctime>
#include <filesystem>

namespace mxgate::auth {

Service::Service(const std::filesystem::path& spool_dir, int threads)
    : pool_(static_cast<size_t>(threads)), cleartext_locks_(spool_dir, kCleartextLockStore),
      networks_(spool_dir, kNetworksStore) {}

Service::~Service() { pool_.join(); }

Admission Service::admit(const conf::AuthConfig& cfg, const std::string& user, const IpAddress& client,
                         Lockout::Clock::time_point now) const {
    Admission a;
    if (cleartext_locked(user)) {
        a.kind = Admission::Kind::cleartext_locked;
    } else if (lockout_.user_locked(user, now)) {
        a.kind = Admission::Kind::user_locked;
    } else if (const NetworkVerdict v = check_network(cfg, user, client); v != NetworkVerdict::allowed) {
        a.kind = Admission::Kind::network_denied;
        a.network = v;
    }
    return a;
}

bool Service::cleartext_locked(const std::string& user) const { return cleartext_locks_.get(user).has_value(); }

bool Service::lock_cleartext(const std::string& user) {
    return cleartext_locks_.put(user, std::to_string(std::time(nullptr)), true);
}

bool Service::remember_network(const std::string& user, const std::string& network) {
    const std::string key = user + "\n" + network;
    if (networks_.get(key)) return false;
    networks_.put(key, std::to_string(std::time(nullptr)), true);
    return true;
}

SaslConn::Options Service::options(const conf::Config& cfg, unsigned external_ssf) {
    SaslConn::Options o;
    o.service = cfg.auth.sasl_service;
    o.hostname = cfg.hostname;
    o.realm = cfg.auth.realm.value_or(cfg.hostname);
    // libsasl2's sasldb plugin ignores a relative sasldb_path (falling back
    // to a missing "userdb" callback); resolve it against the working
    // directory, like the spool path.
    std::error_code ec;
    const auto abs = std::filesystem::absolute(cfg.auth.sasldb, ec);
    o.sasldb = ec ? cfg.auth.sasldb : abs.lexically_normal().string();
    o.external_ssf = external_ssf;
    return o;
}

std::vector<std::string> Service::mechanisms(const std::shared_ptr<const conf::Config>& cfg) {
    std::lock_guard lock(mech_mu_);
    const bool same = !mech_for_.expired() && !mech_for_.owner_before(cfg) && !cfg.owner_before(mech_for_);
    if (!same) {
        mechs_ = available_mechanisms(options(*cfg, 0), cfg->auth.mechanisms);
        mech_for_ = cfg;
    }
    return mechs_;
}

}  // namespace mxgate::auth
