// `mxgate probe HOST[:PORT]` — audit a server's transport security and
// downgrade exposure (SPEC §8; docs/probe.md). The checks live in
// relay/client/probe*.cpp; this file parses options, runs them on a private
// io_context and prints the report. Exit 0 when nothing FAILs, 1 otherwise,
// 2 on a usage or configuration error.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <iostream>

#include "relay/cli/commands.hpp"
#include "relay/cli/format.hpp"
#include "relay/client/probe.hpp"

namespace mxgate::cli {

namespace asio = boost::asio;
namespace probe = client::probe;

namespace {

constexpr const char* kHelp = R"(usage: mxgate probe HOST[:PORT] [options] [-c FILE]

Connects like a sending server (like a mail client with --submission) and
reports each check as PASS, WARN, FAIL or SKIP with its evidence: STARTTLS
offered, each TLS version and weak cipher class accepted, certificate chain,
name and expiry, AUTH advertised or accepted before TLS, plaintext after
STARTTLS executed (command injection).

options:
  --domain D            also check D's MX list, MTA-STS record and policy,
                        DANE TLSA records for HOST, and TLS-RPT record
  --submission          act as a mail client: default port 587; port 465
                        means implicit TLS
  --name NAME           expected certificate name (repeatable; default HOST)
  --ehlo NAME           EHLO name (default: the config's hostname, else
                        probe.invalid)
  --smuggling-test RCPT send test messages to RCPT with bare-LF endings
                        (<LF>.<LF> and friends) and FAIL if the server ends
                        the data there; sends real mail, so opt-in only
  --sender ADDR         MAIL FROM for --smuggling-test (default <>)
  --timeout SECONDS     per-step deadline (default 20)
  --wait SECONDS        quiet time that proves a pipelined command was not
                        executed (default 3)
  --json                machine-readable output
  -c FILE               use the configuration's dns.resolver and tls.ca_file

Exit status: 0 when no check FAILs, 1 otherwise, 2 on usage errors.
)";

// "host", "host:port", "[v6]:port", "[v6]".
bool split_target(const std::string& t, std::string& host, std::optional<uint16_t>& port) {
    std::string p;
    if (!t.empty() && t.front() == '[') {
        const size_t close = t.find(']');
        if (close == std::string::npos) return false;
        host = t.substr(1, close - 1);
        if (close + 1 < t.size()) {
            if (t[close + 1] != ':') return false;
            p = t.substr(close + 2);
        }
    } else {
        const size_t colon = t.find(':');
        if (colon != std::string::npos && t.find(':', colon + 1) != std::string::npos) {
            host = t;  // a bare IPv6 address
        } else {
            host = t.substr(0, colon);
            if (colon != std::string::npos) p = t.substr(colon + 1);
        }
    }
    if (host.empty()) return false;
    if (!p.empty()) {
        if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
        const int n = std::stoi(p);
        if (n < 1 || n > 65535) return false;
        port = static_cast<uint16_t>(n);
    }
    return true;
}

void print_text(const probe::Report& r) {
    std::printf("mxgate probe %s\n", r.target.c_str());
    for (const auto& c : r.checks)
        std::printf("%-4s  %-30s %s: %s\n", probe::status_name(c.status), c.id.c_str(), c.title.c_str(),
                    c.evidence.c_str());
    std::printf("summary: %d PASS, %d WARN, %d FAIL, %d SKIP\n", r.count(probe::Status::pass),
                r.count(probe::Status::warn), r.count(probe::Status::fail), r.count(probe::Status::skip));
}

void print_json(const probe::Report& r) {
    std::cout << "{\"target\":" << json_string(r.target) << ",\"result\":\"" << (r.failed() ? "fail" : "pass")
              << "\",\"checks\":[";
    bool first = true;
    for (const auto& c : r.checks) {
        std::cout << (first ? "" : ",") << "{\"id\":" << json_string(c.id) << ",\"title\":" << json_string(c.title)
                  << ",\"status\":\"" << probe::status_name(c.status) << "\",\"evidence\":" << json_string(c.evidence)
                  << "}";
        first = false;
    }
    std::cout << "],\"summary\":{\"pass\":" << r.count(probe::Status::pass)
              << ",\"warn\":" << r.count(probe::Status::warn) << ",\"fail\":" << r.count(probe::Status::fail)
              << ",\"skip\":" << r.count(probe::Status::skip) << "}}\n";
}

bool parse_seconds(const std::string& s, double& out) {
    try {
        size_t used = 0;
        out = std::stod(s, &used);
        return used == s.size() && out > 0 && out <= 3600;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

int cmd_probe(const std::vector<std::string>& args) {
    auto o = parse_common(args);
    if (!o) return 2;
    if (o->help) {
        std::cout << kHelp;
        return 0;
    }
    probe::Options opts;
    std::optional<std::string> target, ehlo;
    bool json = false;
    double timeout = 20, wait = 3;
    const auto& a = o->rest;
    for (size_t i = 0; i < a.size(); ++i) {
        auto value = [&](std::string& out) {
            if (i + 1 >= a.size()) {
                std::cerr << "mxgate probe: " << a[i] << " needs a value\n";
                return false;
            }
            out = a[++i];
            return true;
        };
        std::string v;
        if (a[i] == "--json") json = true;
        else if (a[i] == "--submission") opts.submission = true;
        else if (a[i] == "--domain") {
            if (!value(v)) return 2;
            opts.domain = v;
        } else if (a[i] == "--name") {
            if (!value(v)) return 2;
            opts.names.push_back(v);
        } else if (a[i] == "--ehlo") {
            if (!value(v)) return 2;
            ehlo = v;
        } else if (a[i] == "--smuggling-test") {
            if (!value(v)) return 2;
            if (v.find('@') == std::string::npos || v.find_first_of("<> \r\n") != std::string::npos) {
                std::cerr << "mxgate probe: --smuggling-test needs a recipient address, not '" << v << "'\n";
                return 2;
            }
            opts.smuggling_rcpt = v;
        } else if (a[i] == "--sender") {
            if (!value(v)) return 2;
            if (v.find_first_of("<> \r\n") != std::string::npos) {
                std::cerr << "mxgate probe: bad --sender '" << v << "'\n";
                return 2;
            }
            opts.smuggling_sender = v;
        } else if (a[i] == "--timeout" || a[i] == "--wait") {
            const std::string flag = a[i];
            if (!value(v)) return 2;
            if (!parse_seconds(v, flag == "--timeout" ? timeout : wait)) {
                std::cerr << "mxgate probe: " << flag << " needs a number of seconds, not '" << v << "'\n";
                return 2;
            }
        } else if (!a[i].empty() && a[i][0] == '-') {
            std::cerr << "mxgate probe: unknown option '" << a[i] << "'\n";
            return 2;
        } else if (target) {
            std::cerr << "mxgate probe: unexpected argument '" << a[i] << "'\n";
            return 2;
        } else {
            target = a[i];
        }
    }
    if (!target) {
        std::cerr << "mxgate probe: HOST[:PORT] is required (mxgate probe --help)\n";
        return 2;
    }
    std::optional<uint16_t> port;
    if (!split_target(*target, opts.host, port)) {
        std::cerr << "mxgate probe: '" << *target << "' is not HOST[:PORT]\n";
        return 2;
    }
    opts.port = port.value_or(opts.submission ? 587 : 25);
    opts.implicit_tls = opts.submission && opts.port == 465;

    // SPEC §2: with -c, the configuration's resolver and trust store.
    conf::DnsConfig dns;
    if (o->config) {
        auto cfg = load_or_report(*o->config);
        if (!cfg) return 2;
        dns = cfg->dns;
        opts.ca_file = cfg->tls.ca_file;
        opts.ehlo_name = cfg->hostname;
    }
    if (ehlo) opts.ehlo_name = *ehlo;
    const auto step = std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000));
    opts.timeouts.connect = opts.timeouts.greeting = opts.timeouts.command = step;
    opts.timeouts.tls_handshake = opts.timeouts.quit = step;
    opts.injection_wait = std::chrono::milliseconds(static_cast<int64_t>(wait * 1000));

    asio::io_context io;
    std::shared_ptr<core::Resolver> resolver;
    try {
        resolver = core::make_unbound_resolver(io.get_executor(), dns);
    } catch (const std::exception& e) {
        std::cerr << "mxgate probe: " << e.what() << "\n";
        return 2;
    }
    std::optional<probe::Report> report;
    std::string crash;
    asio::co_spawn(io, probe::run(io.get_executor(), *resolver, opts),
                   [&](std::exception_ptr e, probe::Report r) {
                       if (e) {
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& ex) {
                               crash = ex.what();
                           }
                           return;
                       }
                       report = std::move(r);
                   });
    io.run();
    if (!report) {
        std::cerr << "mxgate probe: internal error: " << crash << "\n";
        return 1;
    }
    if (json) print_json(*report);
    else print_text(*report);
    return report->failed() ? 1 : 0;
}

}  // namespace mxgate::cli
