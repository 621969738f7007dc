// tlspolicy/dry_run.cpp — tls.inbound.dry_run: a stricter profile compiled
// once per configuration load and compared with what each inbound handshake
// actually negotiated (docs/downgrade-detection.md, "Dry run"). It never
// refuses anything; the session logs tls.would_refuse.
//
// The allowed cipher sets come from a scratch SSL_CTX built with the
// resolved profile, so the answer is exactly what OpenSSL would have
// enabled, overrides and @SECLEVEL included.
#include <openssl/ssl.h>

#include <memory>
#include <string_view>

#include "tlspolicy/detail.hpp"
#include "tlspolicy/inbound.hpp"
#include "tlspolicy/tlspolicy.hpp"

namespace mxgate::tlspolicy {
namespace {

std::string profile_label(const conf::TlsProfile& p) {
    std::string name;
    switch (p.name) {
        case conf::TlsProfileName::strict: name = "strict"; break;
        case conf::TlsProfileName::modern: name = "modern"; break;
        case conf::TlsProfileName::intermediate: name = "intermediate"; break;
        case conf::TlsProfileName::compat: name = "compat"; break;
    }
    if (p.min_version || p.ciphers || p.ciphersuites || p.groups) name += "+overrides";
    return name;
}

}  // namespace

std::shared_ptr<const DryRun> DryRun::make(const conf::TlsProfile& profile, std::string& error) {
    const std::optional<ProfileSettings> s = resolve_profile(profile, error);
    if (!s) return nullptr;
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
    if (!ctx || !detail::apply_profile(ctx.get(), *s, error)) {
        if (error.empty()) error = "cannot create an SSL context";
        return nullptr;
    }
    auto d = std::make_shared<DryRun>();
    d->name_ = profile_label(profile);
    d->min_version = s->min_version;
    d->max_version = s->max_version;
    STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
        const std::string name = SSL_CIPHER_get_name(c);
        if (std::string_view(SSL_CIPHER_get_version(c)) == "TLSv1.3")
            d->suites13_.insert(name);
        else
            d->ciphers12_.insert(name);
    }
    return d;
}

std::string DryRun::would_refuse(const std::string& version, const std::string& cipher) const {
    const int v = protocol_from_name(version);
    if (v == 0) return "unknown protocol version " + version;
    if (v < min_version) return version + " is below the dry-run profile's minimum " + protocol_name(min_version);
    if (max_version != 0 && v > max_version)
        return version + " is above the dry-run profile's maximum " + protocol_name(max_version);
    const auto& allowed = v >= TLS1_3_VERSION ? suites13_ : ciphers12_;
    if (allowed.count(cipher) == 0) return "cipher " + cipher + " is not in the dry-run profile";
    return {};
}

}  // namespace mxgate::tlspolicy
