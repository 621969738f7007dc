// `mxgate sts DOMAIN [-c FILE]` — fetch, validate and print a domain's
// MTA-STS policy, and what the daemon's cache holds (SPEC §2). With -c the
// config's dns.resolver, tls.ca_file and spool are used; without, the
// system's resolver and trust store (and no cache). Read-only: the cache is
// shown, never written. Exit 0 when a valid policy was fetched, 1 otherwise.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "relay/cli/commands.hpp"
#include "relay/core/resolver.hpp"
#include "relay/core/state_store.hpp"
#include "tlspolicy/mta_sts_client.hpp"

namespace mxgate::cli {

namespace asio = boost::asio;

namespace {

void print_policy(const tlspolicy::StsPolicy& p, const char* indent) {
    std::cout << indent << "mode: " << tlspolicy::sts_mode_name(p.mode) << "\n";
    for (const auto& mx : p.mx) std::cout << indent << "mx: " << mx << "\n";
    std::cout << indent << "max_age: " << p.max_age << "\n";
}

struct Result {
    std::string txt;                        // TXT outcome line
    std::optional<tlspolicy::StsRecord> rec;
    tlspolicy::StsFetch fetch;
    std::optional<tlspolicy::StsPolicy> policy;
    std::string parse_error;
};

asio::awaitable<Result> run(core::Resolver& resolver, tlspolicy::ContextPtr ctx, std::string domain) {
    Result r;
    const std::string name = "_mta-sts." + domain;
    auto txt = co_await core::lookup_txt(resolver, name);
    if (txt.status == core::DnsStatus::ok) {
        r.rec = tlspolicy::select_sts_record(txt.records);
        r.txt = r.rec ? "id=" + r.rec->id : "no single valid STSv1 record among " + std::to_string(txt.records.size());
    } else if (txt.status == core::DnsStatus::temp_fail) {
        r.txt = "lookup failed: " + txt.error;
    } else {
        r.txt = "none (no MTA-STS)";
    }
    auto ex = co_await asio::this_coro::executor;
    r.fetch = co_await tlspolicy::fetch_sts_policy(ex, resolver, ctx, domain);
    if (r.fetch.ok) {
        r.policy = tlspolicy::parse_sts_policy(r.fetch.body, r.parse_error);
    }
    co_return r;
}

}  // namespace

int cmd_sts(const std::vector<std::string>& args) {
    auto o = parse_common(args);
    if (!o) return 2;
    if (o->help) {
        std::cout << "usage: mxgate sts DOMAIN [-c FILE]\n"
                     "Looks up _mta-sts.DOMAIN, fetches https://mta-sts.DOMAIN/.well-known/mta-sts.txt\n"
                     "(certificate verified, no redirects, 64 KiB), validates and prints the policy,\n"
                     "and shows what the daemon's cache holds. With -c: the config's dns.resolver,\n"
                     "tls.ca_file and spool; without: the system's resolver and trust store.\n"
                     "Exit 0 when a valid policy was fetched, 1 otherwise.\n";
        return 0;
    }
    if (o->rest.size() != 1 || o->rest[0].empty() || o->rest[0][0] == '-') {
        std::cerr << "usage: mxgate sts DOMAIN [-c FILE]\n";
        return 2;
    }
    std::string domain = o->rest[0];
    for (char& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!domain.empty() && domain.back() == '.') domain.pop_back();

    std::shared_ptr<const conf::Config> cfg;
    if (o->config) {
        cfg = load_or_report(*o->config);
        if (!cfg) return 2;
    }
    conf::DnsConfig dns = cfg ? cfg->dns : conf::DnsConfig{};
    const std::string ca_file = cfg ? cfg->tls.ca_file : "system";
    const conf::TlsProfile profile = cfg ? cfg->tls.outbound.profile : conf::OutboundTls{}.profile;
    std::string err;
    auto ctx = tlspolicy::make_client_context(profile, ca_file, err);
    if (!ctx) {
        std::cerr << "mxgate sts: " << err << "\n";
        return 1;
    }
    asio::io_context io;
    std::shared_ptr<core::Resolver> resolver;
    try {
        resolver = core::make_unbound_resolver(io.get_executor(), dns);
    } catch (const std::exception& e) {
        std::cerr << "mxgate sts: dns.resolver: " << e.what() << "\n";
        return 1;
    }
    Result r;
    bool done = false;
    asio::co_spawn(io, run(*resolver, ctx, domain), [&](std::exception_ptr ep, Result res) {
        if (!ep) r = std::move(res);
        done = true;
    });
    io.run();
    if (!done) return 1;

    std::cout << "domain: " << domain << "\n";
    std::cout << "TXT _mta-sts." << domain << ": " << r.txt << "\n";
    std::cout << "policy https://mta-sts." << domain << "/.well-known/mta-sts.txt: ";
    if (!r.fetch.ok) std::cout << "fetch failed: " << r.fetch.error << "\n";
    else if (!r.policy) std::cout << "invalid: " << r.parse_error << "\n";
    else {
        std::cout << "valid\n";
        print_policy(*r.policy, "  ");
    }
    if (cfg) {
        const auto dir = std::filesystem::path(cfg->spool) / "state" / "mta-sts";
        std::error_code ec;
        std::optional<tlspolicy::StsCacheEntry> entry;
        if (std::filesystem::is_directory(dir, ec)) {
            core::StateStore store(cfg->spool, "mta-sts");
            if (auto raw = store.get(domain)) entry = tlspolicy::parse_cache_entry(*raw);
        }
        if (!entry) {
            std::cout << "cache: empty\n";
        } else {
            const int64_t left = entry->expires() - tlspolicy::unix_now();
            std::cout << "cache: id=" << entry->id << " fetched=" << entry->fetched
                      << (left > 0 ? " expires in " + std::to_string(left) + "s" : std::string(" expired")) << "\n";
            print_policy(entry->policy, "  ");
        }
    } else {
        std::cout << "cache: not shown (no -c FILE)\n";
    }
    return r.fetch.ok && r.policy ? 0 : 1;
}

}  // namespace mxgate::cli
