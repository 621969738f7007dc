// dmarc/dmarc_record.cpp — DMARC record parsing through libopendmarc.
#include "dmarc/dmarc_record.hpp"

#include <sys/types.h>  // u_char for the library header
#include <sys/socket.h>
#include <netinet/in.h>

#include <cstring>
#include <mutex>

extern "C" {
#include <opendmarc/dmarc.h>
}

namespace mxgate::dmarc {

namespace {

void init_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        OPENDMARC_LIB_T lib;
        std::memset(&lib, 0, sizeof lib);
        // Organisational domains are mxgate's (dmarc/public_suffix): the
        // library is used as the record parser only.
        lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
        opendmarc_policy_library_init(&lib);
    });
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::optional<DmarcPolicy> policy_of(int v) {
    switch (v) {
        case DMARC_RECORD_P_NONE: return DmarcPolicy::none;
        case DMARC_RECORD_P_QUARANTINE: return DmarcPolicy::quarantine;
        case DMARC_RECORD_P_REJECT: return DmarcPolicy::reject;
        default: return std::nullopt;
    }
}

}  // namespace

bool is_dmarc_record(std::string_view t) {
    size_t i = 0;
    while (i < t.size() && is_wsp(t[i])) ++i;
    if (i >= t.size() || (t[i] != 'v' && t[i] != 'V')) return false;
    ++i;
    while (i < t.size() && is_wsp(t[i])) ++i;
    if (i >= t.size() || t[i] != '=') return false;
    ++i;
    while (i < t.size() && is_wsp(t[i])) ++i;
    if (t.substr(i, 6) != "DMARC1") return false;
    i += 6;
    while (i < t.size() && is_wsp(t[i])) ++i;
    return i == t.size() || t[i] == ';';
}

std::optional<std::string> select_dmarc_record(const std::vector<std::string>& txts) {
    std::optional<std::string> found;
    for (const auto& t : txts) {
        if (!is_dmarc_record(t)) continue;
        if (found) return std::nullopt;
        found = t;
    }
    return found;
}

std::optional<DmarcRecord> parse_dmarc_record(std::string_view txt, std::string& error) {
    if (!is_dmarc_record(txt)) {
        error = "not a DMARC record";
        return std::nullopt;
    }
    init_library();
    std::string rec(txt);
    // The library needs a context; the address is not used for parsing.
    u_char ip[] = "192.0.2.1";
    DMARC_POLICY_T* ctx = opendmarc_policy_connect_init(ip, DMARC_POLICY_IP_TYPE_IPV4);
    if (ctx == nullptr) {
        error = "DMARC library: out of memory";
        return std::nullopt;
    }
    u_char dom[] = "policy.invalid";
    const int st = opendmarc_policy_store_dmarc(ctx, reinterpret_cast<u_char*>(rec.data()), dom, dom);
    std::optional<DmarcRecord> out;
    if (st != DMARC_PARSE_OKAY) {
        error = st == DMARC_PARSE_ERROR_NO_REQUIRED_P ? "DMARC record without p=" : "invalid DMARC record";
    } else {
        int p = 0, sp = 0, pct = 0, adkim = 0, aspf = 0;
        opendmarc_policy_fetch_p(ctx, &p);
        opendmarc_policy_fetch_sp(ctx, &sp);
        opendmarc_policy_fetch_pct(ctx, &pct);
        opendmarc_policy_fetch_adkim(ctx, &adkim);
        opendmarc_policy_fetch_aspf(ctx, &aspf);
        const auto pp = policy_of(p);
        if (!pp || pct < 0 || pct > 100) {
            error = "invalid DMARC record";
        } else {
            DmarcRecord r;
            r.p = *pp;
            r.sp = policy_of(sp);  // DMARC_RECORD_P_UNSPECIFIED → inherit p
            r.pct = pct;
            r.adkim_strict = adkim == DMARC_RECORD_A_STRICT;
            r.aspf_strict = aspf == DMARC_RECORD_A_STRICT;
            out = r;
        }
    }
    opendmarc_policy_connect_shutdown(ctx);
    return out;
}

const char* to_string(DmarcPolicy p) {
    switch (p) {
        case DmarcPolicy::none: return "none";
        case DmarcPolicy::quarantine: return "quarantine";
        case DmarcPolicy::reject: return "reject";
    }
    return "none";
}

}  // namespace mxgate::dmarc
