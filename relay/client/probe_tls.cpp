// relay/client/probe_tls.cpp — the served certificate, each TLS version on
// its own, and the weak cipher classes (TLS <= 1.2; TLS 1.3 has no weak
// suites to offer).
//
// Verdicts (SPEC §8 "weak ones, TLS < 1.2"): TLS 1.0/1.1 accepted = FAIL;
// neither 1.2 nor 1.3 = FAIL; no TLS 1.3 = WARN. NULL, anonymous, export,
// RC4 and 3DES accepted = FAIL; static-RSA key exchange (no forward secrecy)
// and CBC with an HMAC-SHA1 = WARN (still common, but a downgrade target).
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "relay/client/connect.hpp"
#include "relay/client/probe_impl.hpp"

namespace mxgate::client::probe {

namespace asio = boost::asio;

namespace {

std::string certificate_names(X509* cert) {
    std::string out;
    auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
        if (n->type != GEN_DNS) continue;
        const auto* s = ASN1_STRING_get0_data(n->d.dNSName);
        out += (out.empty() ? "" : ", ") +
               std::string(reinterpret_cast<const char*>(s), static_cast<size_t>(ASN1_STRING_length(n->d.dNSName)));
        if (out.size() > 200) break;
    }
    GENERAL_NAMES_free(sans);
    if (out.empty()) {
        char buf[256] = {0};
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
        out = std::string("CN=") + buf;
    }
    return out;
}

// Days until notAfter (negative when expired).
int days_left(X509* cert) {
    int days = 0, secs = 0;
    ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert));
    return days;
}

}  // namespace

asio::awaitable<void> Prober::check_certificate() {
    std::string e;
    auto ctx = make_context(TLS1_VERSION, 0, "ALL", e);
    if (!ctx) {
        add("certificate.chain", "certificate chain trusted", Status::skip, e);
        co_return;
    }
    auto op = try_tls(*ctx);
    served_ = co_await std::move(op);
    if (!served_.established) {
        add("tls.handshake", "TLS handshake completes", Status::fail, served_.error);
        co_return;
    }
    add("tls.handshake", "TLS handshake completes", Status::pass,
        served_.info.version + " " + served_.info.cipher);
    if (!served_.leaf) {
        add("certificate.chain", "certificate chain trusted", Status::fail, "no certificate served");
        co_return;
    }
    X509* leaf = served_.leaf.get();
    const std::string trust = opts_.ca_file == "system" ? "the system trust store" : opts_.ca_file;
    if (served_.info.chain_verified)
        add("certificate.chain", "certificate chain trusted", Status::pass,
            "verified against " + trust + "; subject " + served_.info.peer_subject);
    else
        add("certificate.chain", "certificate chain trusted", Status::fail,
            served_.info.verify_error + " (against " + trust + "); subject " + served_.info.peer_subject);

    std::vector<std::string> names = opts_.names;
    if (names.empty()) names.push_back(strip_brackets(opts_.host));
    std::string wanted;
    bool matched = false;
    for (const auto& n : names) {
        wanted += (wanted.empty() ? "" : " or ") + n;
        if (tlspolicy::certificate_matches_host(leaf, n)) matched = true;
    }
    add("certificate.name", "certificate names the server", matched ? Status::pass : Status::fail,
        (matched ? "matches " : "does not match ") + wanted + "; certificate names " + certificate_names(leaf));

    const int days = days_left(leaf);
    Status st = days < 0 ? Status::fail : days < 14 ? Status::warn : Status::pass;
    add("certificate.expiry", "certificate not about to expire", st,
        days < 0 ? "expired " + std::to_string(-days) + " days ago" : "expires in " + std::to_string(days) + " days");
}

asio::awaitable<void> Prober::check_versions() {
    struct Version {
        int v;
        const char* name;
    };
    static constexpr Version kVersions[] = {
        {TLS1_VERSION, "TLSv1"}, {TLS1_1_VERSION, "TLSv1.1"}, {TLS1_2_VERSION, "TLSv1.2"}, {TLS1_3_VERSION, "TLSv1.3"}};
    bool accepted[4] = {};
    std::string evidence[4];
    bool tested[4] = {};
    for (int i = 0; i < 4; ++i) {
        std::string e;
        auto ctx = make_context(kVersions[i].v, kVersions[i].v, "ALL:COMPLEMENTOFALL:!eNULL", e);
        if (!ctx) {
            evidence[i] = e;
            continue;
        }
        auto op = try_tls(*ctx);
        const TlsAttempt a = co_await std::move(op);
        if (!a.reached) {
            evidence[i] = a.error;
            continue;
        }
        tested[i] = true;
        accepted[i] = a.established;
        evidence[i] = a.established ? "handshake completed: " + a.info.version + " " + a.info.cipher
                                    : "refused: " + a.error;
    }
    for (int i = 0; i < 4; ++i) {
        const std::string id = std::string("tls.version.") + kVersions[i].name;
        const bool old = i < 2;
        const std::string title = std::string(kVersions[i].name) + (old ? " refused" : " accepted");
        Status st;
        if (!tested[i]) st = Status::skip;
        else if (old) st = accepted[i] ? Status::fail : Status::pass;
        else if (accepted[i]) st = Status::pass;
        else if (i == 2) st = accepted[3] ? Status::pass : Status::fail;  // TLS 1.3 only is fine
        else st = Status::warn;
        add(id, title, st, evidence[i]);
    }
}

asio::awaitable<void> Prober::check_ciphers() {
    struct CipherClass {
        const char* id;
        const char* title;
        const char* list;  // OpenSSL cipher string
        Status if_accepted;
    };
    static constexpr CipherClass kClasses[] = {
        {"null", "NULL (unencrypted) ciphers refused", "eNULL", Status::fail},
        {"anonymous", "anonymous (unauthenticated) ciphers refused", "aNULL:!eNULL", Status::fail},
        {"export", "export ciphers refused", "EXP", Status::fail},
        {"rc4", "RC4 ciphers refused", "RC4", Status::fail},
        {"3des", "3DES ciphers refused", "3DES", Status::fail},
        {"static_rsa", "key exchange without forward secrecy (static RSA) refused", "kRSA:!eNULL:!aNULL",
         Status::warn},
        {"cbc_sha1", "CBC ciphers with HMAC-SHA1 refused", "SHA1:!eNULL:!aNULL:!RC4:!3DES", Status::warn},
    };
    for (const auto& c : kClasses) {
        const std::string id = std::string("tls.cipher.") + c.id;
        std::string e;
        auto ctx = make_context(TLS1_VERSION, TLS1_2_VERSION, c.list, e);
        if (!ctx) {
            add(id, c.title, Status::skip, e + " (not testable here)");
            continue;
        }
        auto op = try_tls(*ctx);
        const TlsAttempt a = co_await std::move(op);
        if (!a.reached)
            add(id, c.title, Status::skip, a.error);
        else if (a.established)
            add(id, c.title, c.if_accepted, "accepted: " + a.info.version + " " + a.info.cipher);
        else
            add(id, c.title, Status::pass, "refused: " + a.error);
    }
}

}  // namespace mxgate::client::probe
