// conf/features.cpp — the feature gates of this build (product rule, SPEC §3):
// a key that asks for a capability this build lacks is refused with
// "<key>: not supported yet in this build", never accepted and ignored. A
// value that merely says the feature is off is accepted.
//
// This build is the relay core: the mx listener, the spool and delivery to
// the home box. To enable a feature once it is built, set its `built` to true
// here (and drop its `off` setter); the loader already parses its keys.
#include "conf/detail.hpp"

namespace mxgate::conf::detail {
namespace {

struct Gate {
    Feature feature;
    bool built;
    // What the snapshot must say while the feature is missing, so that no
    // module believes it runs (nullptr: the contract default already says off).
    void (*off)(Config&);
};

constexpr Gate kGates[] = {
    {Feature::submission_listener, true, nullptr},
    {Feature::lab_listener, true, nullptr},
    {Feature::inbound_require_tls, true, nullptr},
    {Feature::inbound_dry_run, true, nullptr},
    {Feature::outbound_encrypt, true, nullptr},
    {Feature::outbound_verify, true, nullptr},
    {Feature::outbound_dane_level, true, nullptr},
    {Feature::outbound_mta_sts_level, true, nullptr},
    {Feature::outbound_policies, true, nullptr},
    {Feature::use_mta_sts, true, nullptr},
    {Feature::use_dane, true, nullptr},
    {Feature::tlsrpt, true, nullptr},
    {Feature::dnssec_validate, true, nullptr},
    {Feature::dkim_sign, true, nullptr},
    {Feature::auth, true, nullptr},
    {Feature::spf, true, nullptr},
    {Feature::dkim_verify, true, nullptr},
    {Feature::dmarc_enforce, true, nullptr},
    {Feature::dmarc_quarantine, true, nullptr},
    {Feature::dnsbl, true, nullptr},
    {Feature::greylisting, true, nullptr},
    {Feature::own_domain_spoofing, true, nullptr},
};

const Gate& gate(Feature f) {
    for (const Gate& g : kGates)
        if (g.feature == f) return g;
    // Every Feature has a row; a missing one is a programming error caught by
    // the unit tests. Treat it as unbuilt: refusing is the safe answer.
    static constexpr Gate kMissing{Feature::auth, false, nullptr};
    return kMissing;
}

}  // namespace

bool built(Feature f) { return gate(f).built; }

bool refuse_unbuilt(Errors& err, Feature f, const YAML::Node& at, const std::string& what) {
    if (built(f)) return false;
    err.at(at, what + ": not supported yet in this build");
    return true;
}

void gated_bool(Errors& err, const Entry* e, bool& out, Feature f) {
    if (e == nullptr) return;
    const std::optional<bool> v = as_bool(err, *e);
    if (!v) return;
    out = *v;
    if (*v) refuse_unbuilt(err, f, e->value, e->path);
}

void reflect_unbuilt(Config& cfg) {
    for (const Gate& g : kGates)
        if (!g.built && g.off != nullptr) g.off(cfg);
}

}  // namespace mxgate::conf::detail
