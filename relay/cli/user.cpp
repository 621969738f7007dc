// `mxgate user add|passwd|del|list` — SASL users in the configured sasldb
// (SPEC §2, §5). The password comes from a terminal prompt (echo off, asked
// twice) or, with --stdin, from the first line of standard input; never
// from an argument, where `ps` and shell history would show it.
// `passwd` also lifts a cleartext-exposure lock: the exposed password is no
// longer the account's.
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "auth/auth.hpp"
#include "relay/cli/commands.hpp"
#include "relay/core/state_store.hpp"

namespace mxgate::cli {
namespace {

constexpr const char* kUsage =
    "usage: mxgate user add NAME [--stdin] [-c FILE]\n"
    "       mxgate user passwd NAME [--stdin] [-c FILE]\n"
    "       mxgate user del NAME [-c FILE]\n"
    "       mxgate user list [-c FILE]\n"
    "Manages SASL users in auth.sasl.sasldb (realm auth.sasl.realm, default hostname).\n"
    "The password is prompted for on the terminal, or read from the first line of\n"
    "standard input with --stdin; it is never taken from an argument.\n"
    "passwd also lifts a lock set after the password was sent in cleartext.\n";

// Reads one line from the terminal with echo off.
std::optional<std::string> prompt(const char* text) {
    std::FILE* tty = std::fopen("/dev/tty", "r+");
    if (tty == nullptr) return std::nullopt;
    std::fputs(text, tty);
    std::fflush(tty);
    termios old{};
    const int fd = fileno(tty);
    const bool have = tcgetattr(fd, &old) == 0;
    if (have) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    std::string line;
    for (int c; (c = std::fgetc(tty)) != EOF && c != '\n';) line.push_back(static_cast<char>(c));
    if (have) tcsetattr(fd, TCSAFLUSH, &old);
    std::fputs("\n", tty);
    std::fclose(tty);
    return line;
}

std::optional<std::string> read_password(bool from_stdin) {
    if (from_stdin) {
        std::string line;
        if (!std::getline(std::cin, line)) return std::nullopt;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
    }
    std::optional<std::string> a = prompt("Password: ");
    if (!a) {
        std::cerr << "mxgate user: no terminal to ask for the password (use --stdin)\n";
        return std::nullopt;
    }
    std::optional<std::string> b = prompt("Again: ");
    if (!b || *a != *b) {
        std::cerr << "mxgate user: the passwords do not match\n";
        auth::wipe(*a);
        if (b) auth::wipe(*b);
        return std::nullopt;
    }
    auth::wipe(*b);
    return a;
}

}  // namespace

int cmd_user(const std::vector<std::string>& args) {
    auto o = parse_common(args);
    if (!o) return 2;
    if (o->help) {
        std::cout << kUsage;
        return 0;
    }
    bool from_stdin = false;
    std::vector<std::string> pos;
    for (const std::string& a : o->rest) {
        if (a == "--stdin")
            from_stdin = true;
        else if (!a.empty() && a[0] == '-') {
            std::cerr << "mxgate user: unknown option '" << a << "'\n" << kUsage;
            return 2;
        } else
            pos.push_back(a);
    }
    if (pos.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string op = pos[0];
    const bool needs_name = op == "add" || op == "passwd" || op == "del";
    if ((needs_name && pos.size() != 2) || (op == "list" && pos.size() != 1) || (!needs_name && op != "list")) {
        std::cerr << kUsage;
        return 2;
    }
    auto cfg = load_or_report(config_path(*o));
    if (!cfg) return 2;
    // The sasldb holds the secrets (Cyrus keeps userPassword in clear): a
    // database this creates is readable by its owner only.
    ::umask(077);
    const auth::SaslConn::Options opts = auth::Service::options(*cfg, 0);
    std::string error;

    if (op == "list") {
        const auto users = auth::list_users(cfg->auth.sasldb, error);
        if (!users) {
            std::cerr << "mxgate user list: " << error << "\n";
            return 1;
        }
        for (const std::string& u : *users) std::cout << u << "\n";
        return 0;
    }
    const std::string& name = pos[1];
    if (op == "del") {
        if (!auth::delete_user(opts, name, error)) {
            std::cerr << "mxgate user del: " << error << "\n";
            return 1;
        }
        std::cout << "deleted " << name << "\n";
        return 0;
    }
    std::optional<std::string> password = read_password(from_stdin);
    if (!password || password->empty()) {
        if (password) std::cerr << "mxgate user " << op << ": empty password\n";
        return 1;
    }
    const bool ok = auth::set_user_password(opts, name, *password, op == "add" ? auth::UserOp::add : auth::UserOp::passwd,
                                            error);
    auth::wipe(*password);
    if (!ok) {
        std::cerr << "mxgate user " << op << ": " << error << "\n";
        return 1;
    }
    // A new password ends a cleartext-exposure lock (the daemon reads the
    // lock from the spool state on every login).
    try {
        core::StateStore locks(cfg->spool, auth::kCleartextLockStore);
        if (locks.get(name)) {
            locks.erase(name);
            std::cout << "cleared the cleartext-exposure lock of " << name << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "mxgate user " << op << ": password set, but the lock state cannot be read: " << e.what() << "\n";
        return 1;
    }
    std::cout << (op == "add" ? "added " : "changed the password of ") << name << "\n";
    return 0;
}

}  // namespace mxgate::cli
