// tlspolicy/dane.cpp — TLSA lookups through core::Resolver and OpenSSL's
// DANE verifier (SSL_dane_enable / SSL_dane_tlsa_add); dane.hpp.
#include "tlspolicy/dane.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "tlspolicy/detail.hpp"

namespace mxgate::tlspolicy {

namespace asio = boost::asio;

namespace {

Answer answer_of(core::DnsStatus s) {
    switch (s) {
        case core::DnsStatus::ok: return Answer::records;
        case core::DnsStatus::nxdomain: return Answer::nxdomain;
        case core::DnsStatus::nodata: return Answer::nodata;
        case core::DnsStatus::temp_fail: return Answer::failed;
    }
    return Answer::failed;
}

std::string lower_no_dot(std::string s) {
    s = detail::ascii_lower(s);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

// TLSA answers for one base domain, filled into `a`.
asio::awaitable<void> tlsa_into(core::Resolver& r, const std::string& base, DaneAnswers& a) {
    auto op = core::lookup_tlsa(r, "_25._tcp." + base);
    core::DnsResult<core::TlsaRecord> t = co_await std::move(op);
    a.tlsa = answer_of(t.status);
    a.tlsa_secure = t.authenticated;
    a.tlsa_records = std::move(t.records);
    if (t.status == core::DnsStatus::temp_fail) a.error = t.error;
}

}  // namespace

asio::awaitable<DanePlan> lookup_dane(core::Resolver& resolver, std::string host) {
    host = lower_no_dot(std::move(host));
    DaneAnswers a;
    // A first; AAAA when there is no A (an IPv6-only host). Only the
    // status, the DNSSEC flag and the alias target matter here; the
    // connection looks the addresses up itself.
    auto a_op = resolver.query(host, core::rrtype::A);
    core::DnsReply addr = co_await std::move(a_op);
    if (addr.status != core::DnsStatus::ok) {
        auto aaaa_op = resolver.query(host, core::rrtype::AAAA);
        core::DnsReply v6 = co_await std::move(aaaa_op);
        if (v6.status == core::DnsStatus::ok || addr.status != core::DnsStatus::temp_fail) addr = std::move(v6);
    }
    a.address = answer_of(addr.status);
    if (addr.status == core::DnsStatus::ok && addr.rdata.empty()) a.address = Answer::nodata;
    a.address_secure = addr.authenticated;
    if (addr.status == core::DnsStatus::temp_fail) a.error = addr.error;
    if (a.address != Answer::records || !a.address_secure) co_return decide_dane(host, host, a);
    const std::string canonical = lower_no_dot(addr.canonical_name);

    // RFC 7672 §2.2.2: for a (secure) alias, TLSA at the target first; if
    // there are none there, at the original name.
    if (!canonical.empty() && canonical != host) {
        DaneAnswers at_target = a;
        co_await tlsa_into(resolver, canonical, at_target);
        if (at_target.tlsa == Answer::records || at_target.tlsa == Answer::failed)
            co_return decide_dane(host, canonical, at_target);
    }
    co_await tlsa_into(resolver, host, a);
    co_return decide_dane(host, host, a);
}

bool enable_dane(SSL_CTX* ctx, std::string& error) {
    ERR_clear_error();
    if (SSL_CTX_dane_enable(ctx) <= 0) {
        error = "cannot enable DANE on the client context: " + detail::openssl_errors();
        return false;
    }
    return true;
}

bool arm_dane(SSL* ssl, const DanePlan& plan, std::string& error) {
    ERR_clear_error();
    if (!ssl) {
        error = "no SSL object";
        return false;
    }
    // Also sets the SNI name (the base domain) unless one is set already.
    if (SSL_dane_enable(ssl, plan.base_domain.c_str()) <= 0) {
        error = "SSL_dane_enable failed: " + detail::openssl_errors();
        return false;
    }
    for (const std::string& n : plan.reference_names()) {
        if (n != plan.base_domain && SSL_add1_host(ssl, n.c_str()) != 1) {
            error = "cannot add reference name " + n + ": " + detail::openssl_errors();
            return false;
        }
    }
    // RFC 7672 §3.1.1: a DANE-EE(3) match authenticates the key alone; the
    // certificate's names and dates are not checked.
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    int added = 0;
    for (const core::TlsaRecord& r : plan.usable) {
        const int rc = SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.matching_type,
                                         reinterpret_cast<const unsigned char*>(r.data.data()), r.data.size());
        if (rc > 0) ++added;
        // rc == 0: OpenSSL found the record unusable (e.g. a digest it
        // lacks); rc < 0: malformed. Either way it does not take part.
    }
    ERR_clear_error();
    if (added == 0) {
        error = "OpenSSL accepted none of the " + std::to_string(plan.usable.size()) + " TLSA record(s)";
        return false;
    }
    return true;
}

DaneVerdict dane_verdict(SSL* ssl) {
    DaneVerdict v;
    if (!ssl) {
        v.error = "no TLS session";
        return v;
    }
    if (SSL_get0_peer_certificate(ssl) == nullptr) {
        v.error = "no peer certificate";
        return v;
    }
    const long vr = SSL_get_verify_result(ssl);
    uint8_t usage = 0, selector = 0, mtype = 0;
    const unsigned char* data = nullptr;
    size_t dlen = 0;
    const int depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &dlen);
    if (vr == X509_V_ERR_HOSTNAME_MISMATCH) {
        // DANE-TA: a record matched the chain, the leaf names neither the
        // TLSA base domain nor the MX host (RFC 7672 §3.2.2).
        v.error = "the certificate names neither the TLSA base domain nor the MX host (DANE-TA name check)";
        return v;
    }
    if (vr != X509_V_OK || depth < 0) {
        v.error = "no TLSA record matches the certificate chain";
        if (vr != X509_V_OK && vr != X509_V_ERR_DANE_NO_MATCH)
            v.error += std::string(" (") + X509_verify_cert_error_string(vr) + ")";
        return v;
    }
    core::TlsaRecord r;
    r.usage = usage;
    r.selector = selector;
    r.matching_type = mtype;
    if (data) r.data.assign(reinterpret_cast<const char*>(data), dlen);
    v.ok = true;
    v.matched = tlsa_text(r);
    return v;
}

}  // namespace mxgate::tlspolicy
