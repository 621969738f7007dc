#include "auth/sasl_server.hpp"

#include <sasl/sasl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <sstream>

namespace mxgate::auth {
namespace {

// XXX libsasl2 is process-global: its init-time options (read before any
// connection exists, e.g. by the sasldb plugin's database check) can only
// come from a global. Per-connection callbacks override it afterwards, so a
// reloaded `auth.sasl.sasldb` takes effect for new connections.
std::mutex g_init_mu;
bool g_initialised = false;
int g_init_rc = SASL_OK;
std::string g_default_sasldb;

int global_getopt(void*, const char*, const char* option, const char** result, unsigned* len) {
    if (std::strcmp(option, "sasldb_path") == 0 && !g_default_sasldb.empty()) {
        *result = g_default_sasldb.c_str();
        if (len) *len = static_cast<unsigned>(g_default_sasldb.size());
        return SASL_OK;
    }
    return SASL_FAIL;  // not ours: libsasl2 looks in its configuration file
}

int drop_log(void*, int, const char*) { return SASL_OK; }

void* mutex_alloc() { return new std::mutex; }
int mutex_lock(void* m) {
    static_cast<std::mutex*>(m)->lock();
    return SASL_OK;
}
int mutex_unlock(void* m) {
    static_cast<std::mutex*>(m)->unlock();
    return SASL_OK;
}
void mutex_free(void* m) { delete static_cast<std::mutex*>(m); }

using Proc = int (*)();
template <class F>
Proc proc(F f) {
    return reinterpret_cast<Proc>(f);
}

const sasl_callback_t kGlobalCallbacks[] = {
    {SASL_CB_GETOPT, proc(&global_getopt), nullptr},
    {SASL_CB_LOG, proc(&drop_log), nullptr},
    {SASL_CB_LIST_END, nullptr, nullptr},
};

}  // namespace

bool sasl_library_init(const std::string& sasldb, std::string& error) {
    std::lock_guard lock(g_init_mu);
    if (!g_initialised) {
        g_default_sasldb = sasldb;
        sasl_set_mutex(&mutex_alloc, &mutex_lock, &mutex_unlock, &mutex_free);
        g_init_rc = sasl_server_init(kGlobalCallbacks, "mxgate");
        g_initialised = true;
    }
    if (g_init_rc != SASL_OK) {
        error = std::string("libsasl2 server init failed: ") + sasl_errstring(g_init_rc, nullptr, nullptr);
        return false;
    }
    return true;
}

struct SaslConn::Callbacks {
    sasl_callback_t list[4];
};

std::unique_ptr<SaslConn> SaslConn::open(const Options& opt, std::string& error) {
    if (!sasl_library_init(opt.sasldb, error)) return nullptr;
    std::unique_ptr<SaslConn> c(new SaslConn());
    c->opt_ = opt;
    c->callbacks_ = std::make_unique<Callbacks>();
    c->callbacks_->list[0] = {SASL_CB_GETOPT, proc(&SaslConn::getopt), c.get()};
    c->callbacks_->list[1] = {SASL_CB_CANON_USER, proc(&SaslConn::canon_user), c.get()};
    c->callbacks_->list[2] = {SASL_CB_LOG, proc(&SaslConn::log), c.get()};
    c->callbacks_->list[3] = {SASL_CB_LIST_END, nullptr, nullptr};
    const char* realm = c->opt_.realm.empty() ? nullptr : c->opt_.realm.c_str();
    const int rc = sasl_server_new(c->opt_.service.c_str(), c->opt_.hostname.c_str(), realm, nullptr, nullptr,
                                   c->callbacks_->list, 0, &c->conn_);
    if (rc != SASL_OK) {
        error = std::string("sasl_server_new: ") + sasl_errstring(rc, nullptr, nullptr);
        return nullptr;
    }
    // The TLS layer is the protection: no SASL security layer (max_ssf 0),
    // no anonymous logins; PLAIN and LOGIN are fine inside TLS.
    sasl_ssf_t ext = opt.external_ssf;
    sasl_setprop(c->conn_, SASL_SSF_EXTERNAL, &ext);
    sasl_security_properties_t sec{};
    sec.min_ssf = 0;
    sec.max_ssf = 0;
    sec.maxbufsize = 0;
    sec.security_flags = SASL_SEC_NOANONYMOUS;
    sasl_setprop(c->conn_, SASL_SEC_PROPS, &sec);
    return c;
}

SaslConn::~SaslConn() {
    if (conn_ != nullptr) sasl_dispose(&conn_);
}

int SaslConn::getopt(void* context, const char*, const char* option, const char** result, unsigned* len) {
    auto* self = static_cast<SaslConn*>(context);
    if (std::strcmp(option, "sasldb_path") == 0 && !self->opt_.sasldb.empty()) {
        *result = self->opt_.sasldb.c_str();
        if (len) *len = static_cast<unsigned>(self->opt_.sasldb.size());
        return SASL_OK;
    }
    return SASL_FAIL;
}

int SaslConn::log(void*, int, const char*) { return SASL_OK; }

// libsasl2 calls this with the identity the client claims, before the
// secret is verified; the internal canonicaliser then appends the realm.
int SaslConn::canon_user(sasl_conn*, void* context, const char* in, unsigned inlen, unsigned flags, const char*,
                         char* out, unsigned out_max, unsigned* out_len) {
    auto* self = static_cast<SaslConn*>(context);
    if (inlen >= out_max) return SASL_BUFOVER;
    std::memcpy(out, in, inlen);
    out[inlen] = '\0';
    *out_len = inlen;
    if ((flags & SASL_CU_AUTHID) == 0) return SASL_OK;
    std::string user(in, inlen);
    const std::string suffix = "@" + self->opt_.realm;
    if (!self->opt_.realm.empty() && user.size() > suffix.size() &&
        strcasecmp(user.c_str() + user.size() - suffix.size(), suffix.c_str()) == 0)
        user.resize(user.size() - suffix.size());
    self->user_ = user;
    if (!self->check_only_ && self->gate_ && !self->gate_(self->user_)) {
        self->vetoed_ = true;
        return SASL_NOAUTHZ;
    }
    return SASL_OK;
}

SaslConn::Result SaslConn::finish(int rc, const char* out, unsigned outlen) {
    Result r;
    r.code = rc;
    if (vetoed_) {
        r.outcome = Outcome::vetoed;
        return r;
    }
    switch (rc) {
        case SASL_OK: r.outcome = Outcome::success; break;
        case SASL_CONTINUE:
            r.outcome = Outcome::challenge;
            if (out != nullptr) r.challenge.assign(out, outlen);
            break;
        case SASL_NOMECH:
        case SASL_TOOWEAK:
        case SASL_ENCRYPT: r.outcome = Outcome::no_mechanism; break;
        case SASL_BADAUTH:
        case SASL_NOUSER:
        case SASL_NOAUTHZ:
        case SASL_BADPROT:
        case SASL_BADPARAM:
        case SASL_BADVERS:
        case SASL_DISABLED:
        case SASL_EXPIRED:
        case SASL_NOVERIFY:
        case SASL_BADMAC:
        case SASL_BUFOVER: r.outcome = Outcome::failure; break;
        default: r.outcome = Outcome::temporary; break;
    }
    return r;
}

SaslConn::Result SaslConn::start(const std::string& mechanism, const std::optional<std::string>& initial) {
    const char* out = nullptr;
    unsigned outlen = 0;
    const int rc = sasl_server_start(conn_, mechanism.c_str(), initial ? initial->data() : nullptr,
                                     initial ? static_cast<unsigned>(initial->size()) : 0, &out, &outlen);
    return finish(rc, out, outlen);
}

SaslConn::Result SaslConn::step(const std::string& response) {
    const char* out = nullptr;
    unsigned outlen = 0;
    const int rc = sasl_server_step(conn_, response.data(), static_cast<unsigned>(response.size()), &out, &outlen);
    return finish(rc, out, outlen);
}

SaslConn::Check SaslConn::check_password(const std::string& user, const std::string& password) {
    check_only_ = true;
    const int rc = sasl_checkpass(conn_, user.data(), static_cast<unsigned>(user.size()), password.data(),
                                  static_cast<unsigned>(password.size()));
    check_only_ = false;
    switch (rc) {
        case SASL_OK: return Check::valid;
        case SASL_BADAUTH:
        case SASL_NOUSER:
        case SASL_NOVERIFY:
        case SASL_DISABLED:
        case SASL_EXPIRED:
        case SASL_BADPARAM: return Check::invalid;
        default: return Check::temporary;
    }
}

std::vector<std::string> SaslConn::mechanisms() {
    const char* list = nullptr;
    unsigned len = 0;
    int count = 0;
    std::vector<std::string> out;
    if (sasl_listmech(conn_, nullptr, "", " ", "", &list, &len, &count) != SASL_OK || list == nullptr) return out;
    std::istringstream in(std::string(list, len));
    for (std::string m; in >> m;) out.push_back(m);
    return out;
}

std::vector<std::string> available_mechanisms(const SaslConn::Options& opt,
                                              const std::vector<std::string>& configured) {
    std::string error;
    std::unique_ptr<SaslConn> c = SaslConn::open(opt, error);
    if (!c) return {};
    const std::vector<std::string> have = c->mechanisms();
    std::vector<std::string> out;
    for (const std::string& m : configured)
        if (std::find(have.begin(), have.end(), m) != have.end()) out.push_back(m);
    return out;
}

}  // namespace mxgate::auth
