// dmarc/spf_check.cpp — see spf_check.hpp.
#include "dmarc/spf_check.hpp"

extern "C" {
#include <arpa/inet.h>
#include <netinet/in.h>
#include <spf2/spf.h>
}

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "dmarc/spf_precheck.hpp"

namespace mxgate::dmarc {

namespace {

// libspf2 logs warnings and info to stdout/stderr by default; mxgate
// reports through its own events.
void quiet(const char*, int, const char*) {}

void init_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        SPF_warning_handler = quiet;
        SPF_info_handler = quiet;
        SPF_debug_handler = quiet;
    });
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

// The state of one evaluation, reached from the DNS layer's hook.
struct Evaluation {
    const BlockingDns* dns = nullptr;
    SpfLimits limits;
    std::chrono::steady_clock::time_point deadline;
    int void_lookups = 0;
    std::set<std::string> mx_targets;  // A/AAAA of MX hosts are part of the mx term
    // Set when the evaluation must end with a result libspf2 cannot give.
    bool hostile_record = false;
    bool too_many_void = false;
    bool timed_out = false;
    bool dns_error = false;  // RFC 7208 §4.4/§5: any DNS error ends in temperror
    std::string why;
};

SPF_dns_rr_t* make_rr(SPF_dns_server_t* server, const char* domain, ns_type type, SPF_dns_stat_t herrno) {
    return SPF_dns_rr_new_init(server, domain, type, 0, herrno);
}

bool add_bytes(SPF_dns_rr_t* rr, const void* data, size_t len) {
    const int idx = rr->num_rr;
    if (SPF_dns_rr_buf_realloc(rr, idx, len) != SPF_E_SUCCESS) return false;
    std::memcpy(rr->rr[idx], data, len);
    rr->num_rr = idx + 1;
    return true;
}

bool add_text(SPF_dns_rr_t* rr, const std::string& s) { return add_bytes(rr, s.c_str(), s.size() + 1); }

uint16_t wire_type(ns_type t) { return static_cast<uint16_t>(t); }

// The DNS layer's lookup: one query through the Resolver, converted to
// libspf2's record set after validation.
SPF_dns_rr_t* layer_lookup(SPF_dns_server_t* server, const char* domain, ns_type type, int) {
    auto* ev = static_cast<Evaluation*>(server->hook);
    const std::string name = domain ? lower(domain) : std::string();
    if (ev->hostile_record || ev->too_many_void || ev->timed_out) return make_rr(server, domain, type, TRY_AGAIN);
    if (type != ns_t_a && type != ns_t_aaaa && type != ns_t_mx && type != ns_t_txt && type != ns_t_ptr) {
        // Type SPF (99) is obsolete (RFC 7208 §3.1): never asked on the wire.
        return make_rr(server, domain, type, NO_DATA);
    }
    if (name.empty() || name.size() > 253) return make_rr(server, domain, type, HOST_NOT_FOUND);

    const core::DnsReply reply = ev->dns->query(name, wire_type(type), ev->deadline);
    if (reply.status == core::DnsStatus::temp_fail) {
        if (std::chrono::steady_clock::now() >= ev->deadline) ev->timed_out = true;
        ev->dns_error = true;
        if (ev->why.empty()) ev->why = reply.error;
        return make_rr(server, domain, type, TRY_AGAIN);
    }
    const bool is_void = reply.status == core::DnsStatus::nxdomain || reply.status == core::DnsStatus::nodata ||
                         reply.rdata.empty();
    // RFC 7208 §4.6.4: terms whose lookup finds nothing count as void.
    // The A/AAAA lookups of an mx term's hosts are part of that term.
    if (is_void && !((type == ns_t_a || type == ns_t_aaaa) && ev->mx_targets.count(name))) {
        if (++ev->void_lookups > ev->limits.max_void_lookups) {
            ev->too_many_void = true;
            return make_rr(server, domain, type, TRY_AGAIN);
        }
    }
    if (reply.status == core::DnsStatus::nxdomain) return make_rr(server, domain, type, HOST_NOT_FOUND);
    if (is_void) return make_rr(server, domain, type, NO_DATA);

    SPF_dns_rr_t* rr = make_rr(server, domain, type, NETDB_SUCCESS);
    if (!rr) return nullptr;
    for (const std::string& rdata : reply.rdata) {
        bool ok = true;
        if (type == ns_t_a) {
            if (rdata.size() != 4) continue;
            in_addr a{};
            std::memcpy(&a, rdata.data(), 4);
            ok = add_bytes(rr, &a, sizeof a);
        } else if (type == ns_t_aaaa) {
            if (rdata.size() != 16) continue;
            in6_addr a{};
            std::memcpy(&a, rdata.data(), 16);
            ok = add_bytes(rr, &a, sizeof a);
        } else if (type == ns_t_mx) {
            auto mx = core::parse_mx_rdata(rdata);
            if (!mx || mx->host.empty() || !precheck_domain(mx->host).ok) continue;
            ev->mx_targets.insert(mx->host);
            ok = add_text(rr, mx->host);
        } else if (type == ns_t_ptr) {
            size_t pos = 0;
            auto host = core::parse_wire_name(rdata, pos);
            if (!host || pos != rdata.size() || !precheck_domain(*host).ok) continue;
            ok = add_text(rr, *host);
        } else {  // TXT
            auto txt = core::parse_txt_rdata(rdata);
            if (!txt) continue;
            if (is_spf_record(*txt)) {
                const SpfPrecheck pc = precheck_spf_record(*txt);
                if (!pc.ok) {
                    // CVE-2023-42118: never let libspf2 compile it.
                    ev->hostile_record = true;
                    ev->why = "invalid SPF record at " + name + ": " + pc.reason;
                    SPF_dns_rr_free(rr);
                    return make_rr(server, domain, type, TRY_AGAIN);
                }
            } else if (!precheck_explanation(*txt).ok) {
                continue;  // not SPF, and not a usable explanation: drop it
            }
            ok = add_text(rr, *txt);
        }
        if (!ok) {
            SPF_dns_rr_free(rr);
            return make_rr(server, domain, type, TRY_AGAIN);
        }
    }
    if (rr->num_rr == 0) rr->herrno = NO_DATA;
    return rr;
}

SpfResult map_result(SPF_result_t r) {
    switch (r) {
        case SPF_RESULT_PASS: return SpfResult::pass;
        case SPF_RESULT_FAIL: return SpfResult::fail;
        case SPF_RESULT_SOFTFAIL: return SpfResult::softfail;
        case SPF_RESULT_NEUTRAL: return SpfResult::neutral;
        case SPF_RESULT_NONE: return SpfResult::none;
        case SPF_RESULT_TEMPERROR: return SpfResult::temperror;
        case SPF_RESULT_PERMERROR:
        case SPF_RESULT_INVALID: return SpfResult::permerror;
    }
    return SpfResult::permerror;
}

// One libspf2 server per check-pool thread, made on its first evaluation
// and reused: SPF_server_new_dns() costs a uname() and compiles the default
// explanation and local-policy records every time. The server holds only
// settings (limits, receiving domain, our DNS layer); each evaluation
// points the layer's hook at its own state.
struct ThreadServer {
    SPF_dns_server_t layer{};
    SPF_server_t* server = nullptr;
    std::string rec_dom;
    ThreadServer() {
        layer.destroy = nullptr;  // ours: libspf2 must not free it
        layer.lookup = layer_lookup;
        layer.name = "mxgate";
        server = SPF_server_new_dns(&layer, 0);
        if (!server) return;
        SPF_server_set_max_dns_mech(server, 10);  // RFC 7208 §4.6.4
        SPF_server_set_max_dns_mx(server, 10);
        SPF_server_set_max_dns_ptr(server, 10);
    }
    ~ThreadServer() {
        if (server) SPF_server_free(server);
    }
    ThreadServer(const ThreadServer&) = delete;
    ThreadServer& operator=(const ThreadServer&) = delete;
};

// The hook must not outlive the evaluation it points at.
struct HookScope {
    SPF_dns_server_t& layer;
    HookScope(SPF_dns_server_t& l, Evaluation* ev) : layer(l) { layer.hook = ev; }
    ~HookScope() { layer.hook = nullptr; }
};

// "::ffff:192.0.2.1" is the IPv4 client 192.0.2.1 (a dual-stack listener).
std::string unmap_v4(const std::string& ip) {
    static constexpr std::string_view kPrefix = "::ffff:";
    if (ip.size() > kPrefix.size() && lower(ip.substr(0, kPrefix.size())) == kPrefix &&
        ip.find('.') != std::string::npos)
        return ip.substr(kPrefix.size());
    return ip;
}

}  // namespace

SpfVerdict check_spf(const BlockingDns& dns, const SpfInput& in, const SpfLimits& limits) {
    init_library();
    SpfVerdict v;
    const bool null_sender = in.sender.empty();
    v.identity = null_sender ? "helo" : "mailfrom";
    std::string local, domain;
    if (null_sender) {
        // RFC 7208 §2.4: the null sender is checked as postmaster@<HELO>.
        local = "postmaster";
        domain = in.helo;
    } else {
        const size_t at = in.sender.rfind('@');
        if (at == std::string::npos) {
            // RFC 7208 §4.3: a MAIL FROM without a domain uses the HELO name.
            local = in.sender;
            domain = in.helo;
        } else {
            local = in.sender.substr(0, at);
            domain = in.sender.substr(at + 1);
        }
    }
    if (!domain.empty() && domain.back() == '.') domain.pop_back();
    domain = lower(domain);
    v.domain = domain;
    // RFC 7208 §4.3: a malformed or single-label domain gives "none".
    if (auto d = precheck_domain(domain); !d.ok) {
        v.result = SpfResult::none;
        v.explanation = "no checkable domain (" + d.reason + ")";
        return v;
    }
    if (auto l = precheck_local_part(local); !l.ok) {
        v.result = SpfResult::none;
        v.explanation = "no checkable identity (" + l.reason + ")";
        return v;
    }
    const std::string helo_ok = precheck_domain(in.helo).ok ? lower(in.helo) : std::string();
    const std::string ip = unmap_v4(in.client_ip);

    Evaluation ev;
    ev.dns = &dns;
    ev.limits = limits;
    ev.deadline = std::chrono::steady_clock::now() + limits.total;

    thread_local ThreadServer ts;
    SPF_server_t* server = ts.server;
    if (!server) {
        v.result = SpfResult::temperror;
        v.explanation = "libspf2 could not start";
        return v;
    }
    HookScope hook(ts.layer, &ev);
    // The receiving domain (%{r}); libspf2's default is this host's name.
    const std::string rec_dom = precheck_domain(in.receiver).ok ? in.receiver : std::string();
    if (rec_dom != ts.rec_dom) {
        SPF_server_set_rec_dom(server, rec_dom.empty() ? nullptr : rec_dom.c_str());
        ts.rec_dom = rec_dom;
    }

    SPF_request_t* req = SPF_request_new(server);
    SPF_response_t* resp = nullptr;
    bool no_record = false;
    const bool v6 = ip.find(':') != std::string::npos;
    const SPF_errcode_t ip_err =
        v6 ? SPF_request_set_ipv6_str(req, ip.c_str()) : SPF_request_set_ipv4_str(req, ip.c_str());
    if (ip_err != SPF_E_SUCCESS) {
        v.result = SpfResult::none;
        v.explanation = "client address is not an IP address";
    } else {
        if (!helo_ok.empty()) SPF_request_set_helo_dom(req, helo_ok.c_str());
        const std::string from = local + "@" + domain;
        SPF_request_set_env_from(req, from.c_str());
        SPF_request_query_mailfrom(req, &resp);
        if (resp && SPF_response_reason(resp) == SPF_REASON_LOCALHOST) {
            // libspf2 answers "pass" for any loopback client without looking
            // at the record ("localhost always gets a free ride"). For a
            // receiving MX that would let any local process pass DMARC and
            // the own-domain check for every domain: evaluate the record
            // like for any other client instead.
            SPF_response_free(resp);
            resp = SPF_response_new(req);
            SPF_record_t* record = nullptr;
            // What SPF_request_query_mailfrom sets before its loopback
            // shortcut; libspf2 aborts on a null current domain.
            req->cur_dom = req->env_from_dp;
            if (resp && req->cur_dom != nullptr &&
                SPF_server_get_record(server, req, resp, &record) == SPF_E_SUCCESS && record) {
                resp->spf_record_exp = record;  // as query_mailfrom does (explanations)
                SPF_record_interpret(record, req, resp, 0);
                resp->spf_record_exp = nullptr;
                SPF_record_free(record);
            } else if (resp) {
                SPF_response_free(resp);
                resp = nullptr;
                no_record = true;
            }
        }
        if (ev.hostile_record) {
            v.result = SpfResult::permerror;
            v.explanation = ev.why;
        } else if (ev.too_many_void) {
            v.result = SpfResult::permerror;
            v.explanation = "more than " + std::to_string(limits.max_void_lookups) + " void DNS lookups";
        } else if (ev.timed_out) {
            v.result = SpfResult::temperror;
            v.explanation = "SPF evaluation took too long";
        } else if (ev.dns_error) {
            // libspf2 1.2.10 turns some DNS errors into permerror or none.
            v.result = SpfResult::temperror;
            v.explanation = ev.why;
        } else if (no_record) {
            v.result = SpfResult::none;
            v.explanation = "no SPF record";
        } else if (resp) {
            v.result = map_result(SPF_response_result(resp));
            const SPF_errcode_t err = SPF_response_errcode(resp);
            if (v.result == SpfResult::temperror && !ev.why.empty())
                v.explanation = ev.why;
            else if (err != SPF_E_SUCCESS)
                v.explanation = SPF_strerror(err);
        } else {
            v.result = SpfResult::temperror;
            v.explanation = "libspf2 gave no response";
        }
    }
    if (resp) SPF_response_free(resp);
    SPF_request_free(req);
    return v;
}

}  // namespace mxgate::dmarc
