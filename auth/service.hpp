// auth/service.hpp — the process-wide state of SMTP AUTH, shared by every
// submission session and kept across configuration reloads:
//   - the SASL thread pool (libsasl2 calls block: sasldb, saslauthd, hashing);
//   - the Lockout table (per user, per client address);
//   - the cleartext-exposure locks (SPEC §5: an account whose correct
//     password crossed the network in cleartext refuses logins until
//     `mxgate user passwd`), durable in <spool>/state/auth-cleartext-lock/;
//   - the networks each user has logged in from (auth.new_network),
//     in <spool>/state/auth-networks/.
//
// admit() is the gate run when a mechanism learns the user name, before the
// secret is checked: locked users and refused networks go no further.
//
// Thread-safe: the Lockout has its own mutex, the state stores are single
// file operations, the mechanism cache has a mutex.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/lockout.hpp"
#include "auth/networks.hpp"
#include "auth/sasl_server.hpp"
#include "conf/config.hpp"
#include "relay/core/state_store.hpp"

namespace mxgate::auth {

// The state-store namespaces (shared with `mxgate user passwd`, which
// clears a cleartext-exposure lock).
inline constexpr const char* kCleartextLockStore = "auth-cleartext-lock";
inline constexpr const char* kNetworksStore = "auth-networks";

struct Admission {
    enum class Kind { ok, user_locked, cleartext_locked, network_denied };
    Kind kind = Kind::ok;
    NetworkVerdict network = NetworkVerdict::allowed;
};

class Service {
public:
    explicit Service(const std::filesystem::path& spool_dir, int threads = 2);
    ~Service();

    boost::asio::thread_pool& pool() { return pool_; }
    Lockout& lockout() { return lockout_; }

    // The gate for a user named by a mechanism, from `client`.
    Admission admit(const conf::AuthConfig& cfg, const std::string& user, const IpAddress& client,
                    Lockout::Clock::time_point now) const;

    bool cleartext_locked(const std::string& user) const;
    bool lock_cleartext(const std::string& user);  // durable; false if the write failed
    // True the first time `user` logs in from `network`; remembers it.
    bool remember_network(const std::string& user, const std::string& network);

    // libsasl2 options for a session of this configuration.
    static SaslConn::Options options(const conf::Config& cfg, unsigned external_ssf);
    // The configured mechanisms libsasl2 can serve, computed once per config.
    std::vector<std::string> mechanisms(const std::shared_ptr<const conf::Config>& cfg);

private:
    boost::asio::thread_pool pool_;
    Lockout lockout_;
    core::StateStore cleartext_locks_;
    core::StateStore networks_;
    std::mutex mech_mu_;
    std::weak_ptr<const conf::Config> mech_for_;
    std::vector<std::string> mechs_;
};

}  // namespace mxgate::auth
