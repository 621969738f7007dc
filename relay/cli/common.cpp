#include <sys/stat.h>

#include <iostream>

#include "relay/cli/commands.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::cli {

const char* version() { return "0.1.0"; }

std::optional<CommonOptions> parse_common(const std::vector<std::string>& args) {
    CommonOptions o;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-c" || a == "--config") {
            if (i + 1 >= args.size()) {
                std::cerr << "mxgate: " << a << " needs a file name\n";
                return std::nullopt;
            }
            o.config = args[++i];
        } else if (a.rfind("--config=", 0) == 0) {
            o.config = a.substr(9);
        } else if (a == "-h" || a == "--help") {
            o.help = true;
        } else {
            o.rest.push_back(a);
        }
    }
    return o;
}

std::string config_path(const CommonOptions& o) {
    if (o.config) return *o.config;
    struct stat st {};
    if (::stat("mxgate.yaml", &st) == 0) return "mxgate.yaml";
    return "/etc/mxgate/mxgate.yaml";
}

std::shared_ptr<const conf::Config> load_or_report(const std::string& path) {
    conf::LoadResult r = conf::load_file(path);
    for (const auto& d : r.errors) std::cerr << d.text() << "\n";
    return r.errors.empty() ? r.config : nullptr;
}

std::shared_ptr<spool::Spool> open_spool_for_tool(const conf::Config& cfg, const char* what) {
    try {
        return spool::open_file_spool(cfg.spool, /*repair=*/false);
    } catch (const std::exception& e) {
        std::cerr << "mxgate " << what << ": " << e.what() << "\n";
        return nullptr;
    }
}

int cmd_check_config(const std::vector<std::string>& args) {
    auto o = parse_common(args);
    if (!o) return 2;
    if (o->help) {
        std::cout << "usage: mxgate check-config [-c FILE]\n"
                     "Validates the configuration; prints every error as FILE:LINE:COL: message.\n"
                     "Exit 0 when valid, 2 otherwise.\n";
        return 0;
    }
    if (!o->rest.empty()) {
        std::cerr << "mxgate check-config: unexpected argument '" << o->rest[0] << "'\n";
        return 2;
    }
    const std::string path = config_path(*o);
    auto cfg = load_or_report(path);
    if (!cfg) return 2;
    // Cipher strings are OpenSSL's to judge: resolve every profile now, so a
    // bad override fails here and not only at start (conf/ cannot link OpenSSL).
    std::vector<std::pair<std::string, const conf::TlsProfile*>> profiles{
        {"tls.inbound", &cfg->tls.inbound.profile}, {"tls.outbound", &cfg->tls.outbound.profile}};
    if (cfg->tls.inbound.dry_run) profiles.emplace_back("tls.inbound.dry_run", &*cfg->tls.inbound.dry_run);
    for (const auto& l : cfg->listeners)
        if (l.tls_profile) profiles.emplace_back("listener " + l.name + ": tls_profile", &*l.tls_profile);
    bool ok = true;
    for (const auto& [where, p] : profiles) {
        std::string err;
        if (!tlspolicy::resolve_profile(*p, err)) {
            std::cerr << path << ": " << where << "." << err << "\n";
            ok = false;
        }
    }
    if (!ok) return 2;
    std::cout << path << ": ok\n";
    return 0;
}

int cmd_not_built(const std::string& cmd, const std::vector<std::string>& args) {
    // XXX These subcommands belong to capabilities not built yet (issues 3-6).
    // They say so plainly instead of pretending to work.
    std::cerr << "mxgate " << cmd << ": not supported yet in this build\n";
    return 2;
}

}  // namespace mxgate::cli
