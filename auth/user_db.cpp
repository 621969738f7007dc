#include "auth/user_db.hpp"

#include <sasl/sasl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <sstream>

namespace mxgate::auth {
namespace {

// A server connection with the sasldb path, for the setpass calls.
struct AdminConn {
    SaslConn::Options opt;
    sasl_conn_t* conn = nullptr;
    sasl_callback_t cbs[2];

    static int getopt(void* context, const char*, const char* option, const char** result, unsigned* len) {
        auto* self = static_cast<AdminConn*>(context);
        if (std::string_view(option) == "sasldb_path") {
            *result = self->opt.sasldb.c_str();
            if (len) *len = static_cast<unsigned>(self->opt.sasldb.size());
            return SASL_OK;
        }
        return SASL_FAIL;
    }

    bool open(const SaslConn::Options& o, std::string& error) {
        opt = o;
        if (!sasl_library_init(opt.sasldb, error)) return false;
        cbs[0] = {SASL_CB_GETOPT, reinterpret_cast<int (*)()>(&AdminConn::getopt), this};
        cbs[1] = {SASL_CB_LIST_END, nullptr, nullptr};
        const int rc = sasl_server_new(opt.service.c_str(), opt.hostname.c_str(), opt.realm.c_str(), nullptr, nullptr,
                                       cbs, 0, &conn);
        if (rc != SASL_OK) {
            error = std::string("sasl_server_new: ") + sasl_errstring(rc, nullptr, nullptr);
            return false;
        }
        return true;
    }
    ~AdminConn() {
        if (conn) sasl_dispose(&conn);
    }
};

std::string sasl_error(sasl_conn_t* conn, int rc) {
    std::string e = sasl_errstring(rc, nullptr, nullptr);
    if (const char* d = sasl_errdetail(conn)) e += std::string(" (") + d + ")";
    return e;
}

}  // namespace

bool user_exists(const SaslConn::Options& opt, const std::string& user) {
    AdminConn a;
    std::string error;
    if (!a.open(opt, error)) return false;
    return sasl_user_exists(a.conn, opt.service.c_str(), opt.realm.c_str(), user.c_str()) == SASL_OK;
}

bool set_user_password(const SaslConn::Options& opt, const std::string& user, const std::string& password, UserOp op,
                       std::string& error) {
    if (user.empty() || user.find_first_of("@\n\r\t ") != std::string::npos) {
        error = "invalid user name '" + user + "' (no '@' or whitespace; the realm comes from auth.sasl.realm)";
        return false;
    }
    if (password.empty()) {
        error = "empty password";
        return false;
    }
    const bool exists = user_exists(opt, user);
    if (op == UserOp::add && exists) {
        error = "user " + user + " already exists (use mxgate user passwd)";
        return false;
    }
    if (op == UserOp::passwd && !exists) {
        error = "no such user " + user + " (use mxgate user add)";
        return false;
    }
    AdminConn a;
    if (!a.open(opt, error)) return false;
    const int rc = sasl_setpass(a.conn, user.c_str(), password.data(), static_cast<unsigned>(password.size()), nullptr,
                                0, op == UserOp::add ? SASL_SET_CREATE : 0);
    if (rc != SASL_OK) {
        error = "cannot set the password: " + sasl_error(a.conn, rc);
        return false;
    }
    return true;
}

bool delete_user(const SaslConn::Options& opt, const std::string& user, std::string& error) {
    if (!user_exists(opt, user)) {
        error = "no such user " + user;
        return false;
    }
    AdminConn a;
    if (!a.open(opt, error)) return false;
    const int rc = sasl_setpass(a.conn, user.c_str(), nullptr, 0, nullptr, 0, SASL_SET_DISABLE);
    if (rc != SASL_OK) {
        error = "cannot delete the user: " + sasl_error(a.conn, rc);
        return false;
    }
    return true;
}

std::optional<std::vector<std::string>> list_users(const std::string& sasldb, std::string& error) {
    if (access(sasldb.c_str(), R_OK) != 0) {
        if (errno == ENOENT) return std::vector<std::string>{};  // no users yet
        error = "cannot read " + sasldb;
        return std::nullopt;
    }
    int fds[2];
    if (pipe(fds) != 0) {
        error = "pipe failed";
        return std::nullopt;
    }
    const pid_t pid = fork();
    if (pid < 0) {
        error = "fork failed";
        return std::nullopt;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execlp("sasldblistusers2", "sasldblistusers2", "-f", sasldb.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    close(fds[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
        error = "sasldblistusers2 (Debian package sasl2-bin) is needed to list users";
        return std::nullopt;
    }
    // Lines are "user@realm: property"; one user has several properties.
    std::set<std::string> users;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        const size_t colon = line.find(':');
        if (colon != std::string::npos && colon > 0) users.insert(line.substr(0, colon));
    }
    return std::vector<std::string>(users.begin(), users.end());
}

}  // namespace mxgate::auth
