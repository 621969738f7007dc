// conf/loader.cpp — load_file()/load_text(): YAML text in, one validated
// Config snapshot (or every error) out. Parses the document, hands each
// top-level section to its load_*.cpp reader, then runs the checks that span
// sections (certificate files, defaults that depend on other keys).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

#include "conf/conf.hpp"
#include "conf/detail.hpp"

namespace mxgate::conf {
namespace detail {

bool regular_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

namespace {

// Listeners that speak TLS need the certificate and key, unless the
// development extension tls.self_signed will create them on first start.
void check_certificate_files(Ctx& c, const Mark& doc_mark) {
    const Config& cfg = c.cfg;
    if (cfg.tls.generate_self_signed || c.self_signed_unknown) return;
    const Listener* needs = nullptr;
    for (const Listener& l : cfg.listeners)
        if (l.tls != ListenerTls::none && needs == nullptr) needs = &l;
    if (needs == nullptr) return;
    const auto check = [&](const std::string& key, const std::string& path, const Mark& written) {
        if (regular_file(path)) return;
        if (written.line > 0) {
            c.err.at(written, key + ": no such file " + clip(path));
        } else {
            const Mark& at = needs->mark.line > 0 ? needs->mark : doc_mark;
            c.err.at(at, key + ": no such file " + clip(path) + " (the default; listener " +
                             clip(needs->name) + " needs it for TLS; set " + key +
                             ", or tls.self_signed: true for development)");
        }
    };
    check("tls.certificate", cfg.tls.certificate, c.certificate_at);
    check("tls.key", cfg.tls.key, c.key_at);
}

void check_metrics_address(Ctx& c, const Mark& at) {
    if (!c.cfg.metrics.address) return;
    for (const Listener& l : c.cfg.listeners)
        if (l.address.text() == c.cfg.metrics.address->text())
            c.err.at(at, "metrics.address: " + c.cfg.metrics.address->text() + " is already listener " +
                             clip(l.name) + "'s address");
}

void load_document(Ctx& c, const YAML::Node& doc) {
    const Entry root = root_entry(doc);
    const Section s(c.err, root, {"hostname", "spool", "log", "listeners", "tls", "dns", "domains", "auth",
                                  "policy", "limits", "queue", "metrics"});
    if (!s.valid()) return;
    Config& cfg = c.cfg;
    const Mark doc_mark = doc.IsDefined() && !doc.IsNull() ? c.err.mark(doc) : Mark{c.err.file(), 1, 1};

    if (const Entry* e = s.find("hostname")) {
        if (std::optional<std::string> h = as_string(c.err, *e)) {
            const std::string name = lower(*h);
            if (const std::string problem = domain_name_problem(name); !problem.empty())
                c.err.at(*e, "hostname: " + problem + ": " + clip(*h));
            else
                cfg.hostname = name;
        }
    }
    read_into(s, "spool", cfg.spool, [&](const Entry& e) { return as_string(c.err, e); });

    // Every section is read even when an earlier one failed: all errors at once.
    if (const Entry* e = s.find("log")) load_log(c, *e);
    if (const Entry* e = s.find("tls")) load_tls(c, *e);
    if (const Entry* e = s.find("listeners")) {
        load_listeners(c, *e);
    } else {
        // Default: the public MX on every address (SPEC §3 example).
        Listener mx;
        mx.name = "mx";
        mx.address = HostPort{"::", 25};
        cfg.listeners.push_back(mx);
    }
    if (const Entry* e = s.find("dns")) load_dns(c, *e);
    if (const Entry* e = s.find("domains")) load_domains(c, *e);
    if (const Entry* e = s.find("auth")) load_auth(c, *e);
    if (const Entry* e = s.find("policy")) load_policy(c, *e);
    if (const Entry* e = s.find("limits")) load_limits(c, *e);
    if (const Entry* e = s.find("queue")) load_queue(c, *e);
    if (const Entry* e = s.find("metrics")) load_metrics(c, *e);

    // ---- checks across sections ----
    const bool has_mx = std::any_of(cfg.listeners.begin(), cfg.listeners.end(),
                                    [](const Listener& l) { return l.role == ListenerRole::mx; });
    if (cfg.domains.empty() && has_mx) {
        const Entry* e = s.find("domains");
        // An mx listener exists only to accept mail for the owner's domains;
        // a lab-only (or submission-only) configuration needs none.
        if (e == nullptr || (e->value.IsSequence() && e->value.size() == 0))
            c.err.at(e != nullptr ? c.err.mark(*e) : doc_mark,
                     "domains: at least one domain is required (the domains the mx listener accepts mail for)");
    }
    check_certificate_files(c, doc_mark);
    if (const Entry* e = s.find("metrics")) check_metrics_address(c, c.err.mark(e->value));
    if (cfg.hostname.empty()) {
        if (std::optional<std::string> fqdn = system_fqdn())
            cfg.hostname = *fqdn;
        else
            c.err.at(doc_mark, "hostname: the system's name is not a fully qualified domain name; set hostname");
    }
    reflect_unbuilt(cfg);
}

}  // namespace
}  // namespace detail

LoadResult load_text(std::string_view text, const std::string& file_name) {
    using namespace detail;
    Errors err(file_name);
    auto cfg = std::make_shared<Config>();
    cfg->source_file = file_name;
    try {
        std::optional<YAML::Mark> second;
        const YAML::Node doc = load_single_document(std::string(text), second);
        // A second document would otherwise be silently ignored.
        if (second) err.at(err.mark(*second), "the configuration must be one YAML document (found a second one)");
        Ctx ctx{err, *cfg, Mark{}, Mark{}, false};
        load_document(ctx, doc);
    } catch (const YAML::ParserException& e) {
        err.at(err.mark(e.mark), "YAML syntax error: " + e.msg);
    } catch (const YAML::Exception& e) {
        // The readers check every node's type before using it, so this is a
        // bug in conf/; report it rather than crash a running server's reload.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
        std::abort();  // let the fuzzer see the bug (tests/fuzz/config.cmake)
#endif
        err.at(err.mark(e.mark), "internal error while reading the configuration: " + e.msg);
    }
    if (!err.empty()) {
        // In file order: the main file first, then any recipients files.
        std::vector<Diagnostic> list = err.take();
        std::stable_sort(list.begin(), list.end(), [&](const Diagnostic& a, const Diagnostic& b) {
            const auto key = [&](const Diagnostic& d) {
                return std::make_tuple(d.mark.file != file_name, d.mark.file, d.mark.line, d.mark.col);
            };
            return key(a) < key(b);
        });
        return LoadResult{nullptr, std::move(list)};
    }
    return LoadResult{std::move(cfg), {}};
}

LoadResult load_file(const std::string& path) {
    constexpr std::streamoff kMaxConfig = 16 << 20;
    LoadResult failed;
    errno = 0;
    if (!detail::regular_file(path)) {
        const int saved = errno;
        failed.errors.push_back({Mark{path, 0, 0}, std::string("cannot read: ") +
                                                       (saved != 0 ? std::strerror(saved) : "not a regular file")});
        return failed;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        failed.errors.push_back({Mark{path, 0, 0}, std::string("cannot read: ") + std::strerror(errno)});
        return failed;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    const std::string text = buf.str();
    if (static_cast<std::streamoff>(text.size()) > kMaxConfig) {
        failed.errors.push_back({Mark{path, 0, 0}, "cannot read: larger than 16M"});
        return failed;
    }
    return load_text(text, path);
}

}  // namespace mxgate::conf
