// auth/sasl_server.hpp — the Cyrus SASL (libsasl2) server side of SMTP AUTH.
//
// Interface:
//   sasl_library_init()   once per process, before any SaslConn (idempotent);
//   SaslConn              one exchange: start(), step() until success or
//                         failure, or check_password() for credentials a
//                         client sent in cleartext (judged, never accepted).
//                         A SaslConn is used for one exchange and then
//                         dropped: a failed or aborted exchange never leaves
//                         state behind for the next AUTH (RFC 4954 §4).
//   available_mechanisms() the configured mechanisms libsasl2 can serve.
//
// Options come from `auth.sasl`: the service name, the user realm (default
// hostname) and `sasldb_path`; anything else (pwcheck_method: saslauthd,
// auxprop_plugin, ...) from Cyrus's own configuration file for the
// application "mxgate" (/etc/sasl2/mxgate.conf), as with any Cyrus server.
//
// Gate: a callback run when the mechanism learns the user name (libsasl2's
// canon_user hook, before any password is verified). Returning false stops
// the exchange there — locked users and refused networks are answered
// without checking the secret, so a lockout is not a password oracle.
//
// Threads: every call may block (sasldb reads, saslauthd, hashing); callers
// run them on a pool via core::offload. One SaslConn is used by one thread at
// a time; libsasl2's global state is guarded by the mutexes installed here.
//
// SECURITY: inputs are the client's SASL responses (passwords). They are
// passed to libsasl2 and never logged; libsasl2's own log messages are
// dropped.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sasl_conn;

namespace mxgate::auth {

// Initialises libsasl2 for the server role with `sasldb` as the default
// database path. Returns false with a message when the library fails.
bool sasl_library_init(const std::string& sasldb, std::string& error);

class SaslConn {
public:
    struct Options {
        std::string service = "smtp";
        std::string hostname;
        std::string realm;   // Cyrus user realm
        std::string sasldb;  // sasldb_path
        unsigned external_ssf = 0;  // TLS cipher strength (RFC 4422 §3.8 external layer)
    };

    enum class Outcome {
        challenge,     // send `challenge` in a 334 and read a response
        success,       // authenticated as user()
        failure,       // wrong credentials, unknown user, protocol error: 535
        vetoed,        // the gate refused the user: the caller knows why
        temporary,     // libsasl2/back end trouble: 454
        no_mechanism,  // the mechanism is not available: 504
    };
    struct Result {
        Outcome outcome = Outcome::temporary;
        std::string challenge;  // raw bytes, base64-encode for the wire
        int code = 0;           // libsasl2 result code, for diagnostics
    };

    using Gate = std::function<bool(const std::string& user)>;

    // nullptr with `error` when libsasl2 refuses to create a connection.
    static std::unique_ptr<SaslConn> open(const Options& opt, std::string& error);
    ~SaslConn();
    SaslConn(const SaslConn&) = delete;
    SaslConn& operator=(const SaslConn&) = delete;

    void set_gate(Gate g) { gate_ = std::move(g); }

    Result start(const std::string& mechanism, const std::optional<std::string>& initial_response);
    Result step(const std::string& response);

    enum class Check { valid, invalid, temporary };
    // Verifies a user's password with the configured check (sasldb, or
    // saslauthd); the gate is not consulted.
    Check check_password(const std::string& user, const std::string& password);

    // The authentication identity the mechanism named (canonicalised: a
    // trailing "@realm" of our realm removed); "" until it names one.
    const std::string& user() const { return user_; }

    // Mechanisms this connection can offer, upper-case.
    std::vector<std::string> mechanisms();

private:
    SaslConn() = default;
    Result finish(int rc, const char* out, unsigned outlen);
    static int canon_user(sasl_conn* conn, void* context, const char* in, unsigned inlen, unsigned flags,
                          const char* user_realm, char* out, unsigned out_max, unsigned* out_len);
    static int getopt(void* context, const char* plugin, const char* option, const char** result, unsigned* len);
    static int log(void* context, int level, const char* message);

    Options opt_;
    sasl_conn* conn_ = nullptr;
    Gate gate_;
    bool check_only_ = false;
    bool vetoed_ = false;
    std::string user_;
    struct Callbacks;
    std::unique_ptr<Callbacks> callbacks_;
};

// The mechanisms of `configured` that libsasl2 offers here (configured order).
std::vector<std::string> available_mechanisms(const SaslConn::Options& opt,
                                              const std::vector<std::string>& configured);

}  // namespace mxgate::auth
