// relay/client/probe_domain.cpp — `probe --domain D`: is HOST one of D's MX
// hosts, does D publish a valid MTA-STS policy (RFC 8461) that covers every
// MX, do DANE TLSA records for HOST (RFC 7672) match the certificate it
// serves, and does D ask for TLS reports (RFC 8460)?
//
// Verdicts: a missing MTA-STS, DANE or TLS-RPT setup is a WARN (optional,
// but without it a sender cannot refuse a downgrade); a published one that
// is broken is a FAIL (senders that honour it defer mail, or it protects
// nothing). TLSA records without DNSSEC are unusable (RFC 7672 §2.2): WARN.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "relay/client/connect.hpp"
#include "relay/client/probe_impl.hpp"
#include "tlspolicy/mta_sts.hpp"
#include "tlspolicy/mta_sts_client.hpp"
#include "tlspolicy/tlsrpt_record.hpp"
#include "relay/core/ascii.hpp"

namespace mxgate::client::probe {

namespace asio = boost::asio;

namespace {

std::string dns_problem(core::DnsStatus st, const std::string& error) {
    switch (st) {
        case core::DnsStatus::nxdomain: return "NXDOMAIN";
        case core::DnsStatus::nodata: return "no records";
        case core::DnsStatus::temp_fail: return "temporary DNS failure: " + error;
        default: return "";
    }
}

// RFC 6698 §2.1: selector 0 = whole certificate, 1 = SubjectPublicKeyInfo;
// matching type 0 = exact, 1 = SHA-256, 2 = SHA-512.
bool tlsa_matches(const core::TlsaRecord& r, X509* cert) {
    unsigned char* der = nullptr;
    int len = r.selector == 0 ? i2d_X509(cert, &der) : r.selector == 1 ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der) : -1;
    if (len <= 0) return false;
    std::string data(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    if (r.matching_type == 0) return data == r.data;
    const EVP_MD* md = r.matching_type == 1 ? EVP_sha256() : r.matching_type == 2 ? EVP_sha512() : nullptr;
    if (!md) return false;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data.data(), data.size(), out, &n, md, nullptr) != 1) return false;
    return std::string(reinterpret_cast<char*>(out), n) == r.data;
}

}  // namespace

asio::awaitable<void> Prober::check_domain() {
    const std::string domain = core::ascii::domain_key(*opts_.domain);
    auto op = core::lookup_mx(resolver_, domain);
    const auto mx = co_await std::move(op);
    std::vector<std::string> hosts;
    for (const auto& r : mx.records)
        if (!r.host.empty()) hosts.push_back(core::ascii::domain_key(r.host));
    const std::string host = core::ascii::domain_key(strip_brackets(opts_.host));
    std::string listed;
    bool is_mx = false;
    for (const auto& h : hosts) {
        listed += (listed.empty() ? "" : ", ") + h;
        if (h == host) is_mx = true;
    }
    if (mx.status != core::DnsStatus::ok)
        add("domain.mx", "HOST is an MX host of the domain", Status::warn,
            "MX lookup for " + domain + ": " + dns_problem(mx.status, mx.error));
    else
        add("domain.mx", "HOST is an MX host of the domain", is_mx ? Status::pass : Status::warn,
            (is_mx ? host + " is an MX of " : host + " is not an MX of ") + domain + " (MX: " + listed + ")");
    co_await check_mta_sts(hosts);
    co_await check_dane();
    co_await check_tlsrpt();
}

asio::awaitable<void> Prober::check_mta_sts(const std::vector<std::string>& mx_hosts) {
    const std::string domain = core::ascii::domain_key(*opts_.domain);
    const std::string txt_name = "_mta-sts." + domain;
    auto op = core::lookup_txt(resolver_, txt_name);
    const auto txt = co_await std::move(op);
    // RFC 8461 §3.1: TXT records not starting with "v=STSv1" are someone
    // else's; the STSv1 ones are parsed by the outbound module's parser.
    int records = 0;
    std::string record_error, id;
    for (const auto& t : txt.records) {
        if (t.rfind("v=STSv1", 0) != 0) continue;
        ++records;
        if (auto r = tlspolicy::parse_sts_txt(t)) id = r->id;
        else record_error = "invalid v=STSv1 record (RFC 8461 §3.1: v=STSv1; id=1 to 32 letters or digits): \"" + t + "\"";
    }
    if (txt.status == core::DnsStatus::temp_fail) {
        add("mta_sts.record", "MTA-STS TXT record", Status::warn, txt_name + ": " + dns_problem(txt.status, txt.error));
        co_return;
    }
    if (records == 0) {
        add("mta_sts.record", "MTA-STS TXT record", Status::warn,
            "no v=STSv1 record at " + txt_name + ": senders cannot require TLS for " + domain);
        co_return;
    }
    if (records > 1 || !record_error.empty()) {
        add("mta_sts.record", "MTA-STS TXT record", Status::fail,
            records > 1 ? std::to_string(records) + " v=STSv1 records at " + txt_name + " (RFC 8461 §3.1: exactly one)"
                        : record_error);
        co_return;
    }
    add("mta_sts.record", "MTA-STS TXT record", Status::pass, txt_name + ": v=STSv1; id=" + id);

    const std::string policy_host = "mta-sts." + domain;
    const std::string url = "https://" + policy_host + "/.well-known/mta-sts.txt";
    // The outbound module's fetch (RFC 8461 §3.3): chain verified against
    // tls.ca_file, name = policy_host, 200 only (no redirects), text/plain,
    // 64 KiB, one deadline for the whole fetch.
    std::string problem;
    std::optional<tlspolicy::StsPolicy> policy;
    conf::TlsProfile profile;
    profile.name = conf::TlsProfileName::intermediate;
    auto ctx = tlspolicy::make_client_context(profile, opts_.ca_file, problem);
    if (ctx) {
        tlspolicy::StsFetchOptions fopts;
        fopts.timeout = opts_.timeouts.command;
        auto fetch_op = tlspolicy::fetch_sts_policy(ex_, resolver_, ctx, domain, fopts);
        const tlspolicy::StsFetch f = co_await std::move(fetch_op);
        if (!f.ok) problem = f.error;
        else {
            std::string e;
            policy = tlspolicy::parse_sts_policy(f.body, e);
            if (!policy) problem = "invalid policy: " + e;
        }
    }
    if (!problem.empty()) {
        add("mta_sts.policy", "MTA-STS policy valid", Status::fail, url + ": " + problem);
        co_return;
    }
    std::string patterns;
    for (const auto& p : policy->mx) patterns += (patterns.empty() ? "" : ", ") + p;
    const std::string mode = tlspolicy::sts_mode_name(policy->mode);
    const std::string summary = "mode " + mode + ", max_age " + std::to_string(policy->max_age) + ", mx " + patterns;
    add("mta_sts.policy", "MTA-STS policy valid", Status::pass, url + ": " + summary);
    const bool enforce = policy->mode == tlspolicy::StsMode::enforce;
    add("mta_sts.mode", "MTA-STS policy enforced", enforce ? Status::pass : Status::warn,
        enforce ? "mode enforce: senders refuse unauthenticated MX hosts"
                : "mode " + mode + ": senders deliver even when TLS is stripped");
    if (policy->mode == tlspolicy::StsMode::none) co_return;

    std::vector<std::string> check = mx_hosts;
    const std::string host = core::ascii::domain_key(strip_brackets(opts_.host));
    if (!is_ip_literal(host) && std::find(check.begin(), check.end(), host) == check.end()) check.push_back(host);
    std::string unmatched, matched;
    for (const auto& h : check) {
        const bool ok = tlspolicy::sts_policy_allows_mx(*policy, h);
        (ok ? matched : unmatched) += ((ok ? matched : unmatched).empty() ? "" : ", ") + h;
    }
    if (check.empty())
        add("mta_sts.mx_match", "MX hosts match the MTA-STS policy", Status::skip, "no MX host names to check");
    else if (unmatched.empty())
        add("mta_sts.mx_match", "MX hosts match the MTA-STS policy", Status::pass, matched + " match " + patterns);
    else
        add("mta_sts.mx_match", "MX hosts match the MTA-STS policy", Status::fail,
            unmatched + " not covered by mx " + patterns + (enforce ? ": senders refuse them" : ""));
}

asio::awaitable<void> Prober::check_dane() {
    const std::string host = core::ascii::domain_key(strip_brackets(opts_.host));
    const char* title = "DANE TLSA records match the served certificate";
    if (is_ip_literal(host)) {
        add("dane.tlsa", title, Status::skip, "HOST is an IP address; TLSA records belong to MX host names");
        co_return;
    }
    const std::string name = "_" + std::to_string(opts_.port) + "._tcp." + host;
    auto op = core::lookup_tlsa(resolver_, name);
    const auto tlsa = co_await std::move(op);
    if (tlsa.status != core::DnsStatus::ok || tlsa.records.empty()) {
        add("dane.tlsa", title, tlsa.status == core::DnsStatus::temp_fail ? Status::warn : Status::warn,
            name + ": " + dns_problem(tlsa.status, tlsa.error) + " (no DANE for this host)");
        co_return;
    }
    if (!served_.leaf) {
        add("dane.tlsa", title, Status::skip, std::to_string(tlsa.records.size()) + " TLSA records at " + name +
                                                  ", but no certificate was served to compare");
        co_return;
    }
    int usable = 0;
    std::string how;
    bool by_ee = false;
    for (const auto& r : tlsa.records) {
        if (r.usage != 2 && r.usage != 3) continue;  // RFC 7672 §3.1.3: PKIX usages unusable for SMTP
        ++usable;
        if (r.usage == 3 && tlsa_matches(r, served_.leaf.get())) {
            how = "DANE-EE(3) " + std::to_string(r.selector) + " " + std::to_string(r.matching_type) + " matches the leaf";
            by_ee = true;
            break;
        }
        if (r.usage == 2) {
            for (size_t i = 1; i < served_.chain.size(); ++i)
                if (tlsa_matches(r, served_.chain[i].get())) {
                    how = "DANE-TA(2) " + std::to_string(r.selector) + " " + std::to_string(r.matching_type) +
                          " matches chain certificate " + std::to_string(i);
                    break;
                }
            if (!how.empty()) break;
        }
    }
    const std::string secure = tlsa.authenticated ? "DNSSEC-validated" : "NOT DNSSEC-validated";
    if (usable == 0) {
        add("dane.tlsa", title, Status::warn,
            name + ": only PKIX-TA/PKIX-EE records, which SMTP senders ignore (RFC 7672 §3.1.3)");
    } else if (how.empty() && !tlsa.authenticated) {
        // Senders ignore records without DNSSEC (RFC 7672 §2.2): nothing
        // defers today, but signing the zone as it is would break delivery.
        add("dane.tlsa", title, Status::warn,
            name + " (" + secure + "): no usable TLSA record matches the served certificate; senders ignore "
                   "unvalidated records today, but would defer once the zone is signed");
    } else if (how.empty()) {
        add("dane.tlsa", title, Status::fail,
            name + " (" + secure + "): no usable TLSA record matches the served certificate: DANE senders defer");
    } else if (!tlsa.authenticated) {
        add("dane.tlsa", title, Status::warn, name + ": " + how + ", but the records are " + secure +
                                                  ": senders ignore them (RFC 7672 §2.2)");
    } else {
        dane_matched_ = true;
        add("dane.tlsa", title, Status::pass, name + " (" + secure + "): " + how);
        // RFC 7672 §3.1: a DANE-authenticated peer needs no public CA
        // chain; only DANE-EE also needs no matching name (§3.1.1; under
        // DANE-TA the name is still checked, §3.2.2).
        for (auto& c : out_.checks) {
            const bool waived = c.id == "certificate.chain" || (by_ee && c.id == "certificate.name");
            if (waived && c.status == Status::fail) {
                c.status = Status::pass;
                c.evidence += " (accepted: authenticated by DANE)";
            }
        }
    }
}

asio::awaitable<void> Prober::check_tlsrpt() {
    const std::string domain = core::ascii::domain_key(*opts_.domain);
    const std::string name = "_smtp._tls." + domain;
    auto op = core::lookup_txt(resolver_, name);
    const auto txt = co_await std::move(op);
    int records = 0;  // the ones that claim to be TLS-RPT
    for (const auto& t : txt.records)
        if (t.rfind("v=TLSRPTv1", 0) == 0) ++records;
    std::string error;
    const auto rec = tlspolicy::select_tlsrpt_record(txt.records, error);  // the outbound module's parser
    const char* title = "TLS-RPT record";
    if (txt.status == core::DnsStatus::temp_fail) {
        add("tlsrpt.record", title, Status::warn, name + ": " + dns_problem(txt.status, txt.error));
    } else if (records == 0) {
        add("tlsrpt.record", title, Status::warn, "no v=TLSRPTv1 record at " + name + ": nobody hears about TLS failures");
    } else if (!rec) {
        add("tlsrpt.record", title, Status::fail, name + ": " + error);
    } else {
        std::string rua;
        for (const auto& u : rec->rua) rua += (rua.empty() ? "" : ", ") + u;
        add("tlsrpt.record", title, Status::pass, name + ": reports to " + rua);
    }
}

}  // namespace mxgate::client::probe
