// relay/cli/commands.hpp — one function per `mxgate` subcommand (SPEC §2).
// Each takes the arguments after the subcommand name and returns the exit
// code: 0 success, 1 runtime failure, 2 usage or configuration error.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/conf.hpp"
#include "relay/spool/spool.hpp"

namespace mxgate::cli {

const char* version();

int cmd_serve(const std::vector<std::string>& args);
int cmd_check_config(const std::vector<std::string>& args);
int cmd_queue(const std::vector<std::string>& args);
int cmd_status(const std::vector<std::string>& args);
int cmd_user(const std::vector<std::string>& args);
int cmd_probe(const std::vector<std::string>& args);
int cmd_sts(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);
int cmd_not_built(const std::string& cmd, const std::vector<std::string>& args);

// Shared option handling: pulls "-c FILE" / "--config FILE" out of args.
struct CommonOptions {
    std::optional<std::string> config;
    bool help = false;
    std::vector<std::string> rest;  // remaining positional arguments and flags
};
// Returns nullopt (after printing the reason) on a usage error.
std::optional<CommonOptions> parse_common(const std::vector<std::string>& args);
// The config path: -c, else ./mxgate.yaml, else /etc/mxgate/mxgate.yaml.
std::string config_path(const CommonOptions& o);
// Loads the configuration, printing every error as FILE:LINE:COL: message.
std::shared_ptr<const conf::Config> load_or_report(const std::string& path);
// Opens the configured spool for a tool running beside the daemon (no
// repair); prints "mxgate WHAT: reason" and returns null when it cannot.
std::shared_ptr<spool::Spool> open_spool_for_tool(const conf::Config& cfg, const char* what);

}  // namespace mxgate::cli
