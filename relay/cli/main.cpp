// mxgate — self-hosted SMTP relay gateway. Command-line entry point.
//
// main() only dispatches to a subcommand (SPEC §2); each lives in its own
// file in relay/cli/. Exit codes: 0 success, 1 runtime failure, 2 usage or
// configuration error.
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "relay/cli/commands.hpp"

namespace {

constexpr std::string_view kUsage = R"(usage: mxgate COMMAND [options]

commands:
  serve [-c FILE]            run the daemon in the foreground
  check-config [-c FILE]     validate the configuration
  queue list|show ID|flush [ID]|delete ID|bounce ID|release ID [-c FILE]
                             inspect and manage the spool
  status [-c FILE]           downstream state, queued count and oldest age
  probe HOST[:PORT]          audit a server's transport security and downgrade exposure
  sts DOMAIN [-c FILE]       fetch and show a domain's MTA-STS policy and cache
  report downgrades|tls|auth [--since T] [--json]
                             summaries from recorded events
  report dmarc [--send-now]  DMARC aggregate reports: pending, or send now
  user add|passwd|del|list [NAME] [--stdin] [-c FILE]
                             manage SASL users in the configured sasldb

Run 'mxgate COMMAND --help' for a command's options.
Without -c, serve looks for ./mxgate.yaml, then /etc/mxgate/mxgate.yaml.
)";

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << kUsage;
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::cout << "mxgate " << mxgate::cli::version() << "\n";
        return 0;
    }
    const std::string cmd = args[0];
    args.erase(args.begin());
    using namespace mxgate::cli;
    if (cmd == "serve") return cmd_serve(args);
    if (cmd == "check-config") return cmd_check_config(args);
    if (cmd == "queue") return cmd_queue(args);
    if (cmd == "status") return cmd_status(args);
    if (cmd == "user") return cmd_user(args);
    if (cmd == "probe") return cmd_probe(args);
    if (cmd == "sts") return cmd_sts(args);
    if (cmd == "report") return cmd_report(args);
    std::cerr << "mxgate: unknown command '" << cmd << "'\n\n" << kUsage;
    return 2;
}
