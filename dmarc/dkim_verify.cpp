// dmarc/dkim_verify.cpp — see dkim_verify.hpp.
#include "dmarc/dkim_verify.hpp"

#include "dmarc/dkim_key_cache.hpp"

// dkim.h uses C99 _Bool; C++ spells it bool (same ABI).
#define _Bool bool
extern "C" {
#include <opendkim/dkim.h>
}
#undef _Bool

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace mxgate::dmarc {

namespace {

// Everything about one message's verification the callbacks need.
struct Verification {
    const BlockingDns* dns = nullptr;
    std::chrono::steady_clock::time_point deadline;
    // (d, s) whose key lookup failed temporarily.
    std::map<std::pair<std::string, std::string>, std::string> temp_failed;
    int ignored = 0;  // signatures beyond kMaxDkimSignatures
};

// RFC 6376 §6.1: signatures are tried top-down, the rest need not be.
DKIM_CBSTAT prescreen(DKIM* dkim, DKIM_SIGINFO** sigs, int nsigs) {
    auto* v = static_cast<Verification*>(dkim_get_user_context(dkim));
    for (int i = static_cast<int>(kMaxDkimSignatures); i < nsigs; ++i) dkim_sig_ignore(sigs[i]);
    if (v && nsigs > static_cast<int>(kMaxDkimSignatures)) v->ignored = nsigs - static_cast<int>(kMaxDkimSignatures);
    return DKIM_CBSTAT_CONTINUE;
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string str(const unsigned char* p) { return p ? reinterpret_cast<const char*>(p) : std::string(); }

bool plain_label_chars(const std::string& s) {
    if (s.empty() || s.size() > 253) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
    return true;
}

// RFC 6376 §3.6.2.2: the key is the TXT record at <selector>._domainkey.<domain>.
DKIM_CBSTAT key_lookup(DKIM* dkim, DKIM_SIGINFO* sig, u_char* buf, size_t buflen) {
    auto* v = static_cast<Verification*>(dkim_get_user_context(dkim));
    if (!v) return DKIM_CBSTAT_ERROR;
    const std::string domain = lower(str(dkim_sig_getdomain(sig)));
    const std::string selector = lower(str(dkim_sig_getselector(sig)));
    if (!plain_label_chars(domain) || !plain_label_chars(selector)) return DKIM_CBSTAT_NOTFOUND;
    // A key that already failed temporarily for this message stays failed:
    // two signatures with the same d=/s= get the same verdict.
    if (v->temp_failed.count({domain, selector})) return DKIM_CBSTAT_NOTFOUND;
    const std::string name = selector + "._domainkey." + domain;
    const core::DnsReply r = v->dns->query(name, core::rrtype::TXT, v->deadline);
    switch (r.status) {
        case core::DnsStatus::temp_fail:
            // Not DKIM_CBSTAT_TRYAGAIN: on that libopendkim stops processing
            // the message (it expects dkim_eoh() to be called again later),
            // so the remaining signatures would get no result and one
            // signature's DNS trouble could hide another's pass or fail
            // (RFC 6376 §6.1: each signature is evaluated on its own).
            // NOTFOUND lets the library go on; evaluate() reports this
            // signature as temperror from temp_failed, never as permerror.
            v->temp_failed[{domain, selector}] = r.error;
            return DKIM_CBSTAT_NOTFOUND;
        case core::DnsStatus::nxdomain:
        case core::DnsStatus::nodata: return DKIM_CBSTAT_NOTFOUND;
        case core::DnsStatus::ok: break;
    }
    // RFC 6376 §3.6.2.2: several records make the result undefined; use the
    // first that parses (libopendkim's own resolver does the same).
    for (const std::string& rdata : r.rdata) {
        auto txt = core::parse_txt_rdata(rdata);
        if (!txt) continue;
        if (txt->size() + 1 > buflen) return DKIM_CBSTAT_ERROR;
        std::memcpy(buf, txt->c_str(), txt->size() + 1);
        return DKIM_CBSTAT_CONTINUE;
    }
    return DKIM_CBSTAT_NOTFOUND;
}

// One library handle for the process: libopendkim's DKIM_LIB is shared
// by threads, each message gets its own DKIM handle.
DKIM_LIB* library() {
    static DKIM_LIB* lib = [] {
        (void)dkim_key_cache_stats();  // links the key parser cache (dkim_key_cache.hpp)
        DKIM_LIB* l = dkim_init(nullptr, nullptr);
        if (!l) return l;
        dkim_set_key_lookup(l, key_lookup);
        dkim_set_prescreen(l, prescreen);
        unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
        dkim_options(l, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
        return l;
    }();
    return lib;
}

DkimVerdict evaluate(DKIM* dkim, DKIM_SIGINFO* sig, const Verification& v) {
    DkimVerdict out;
    out.domain = lower(str(dkim_sig_getdomain(sig)));
    out.selector = str(dkim_sig_getselector(sig));
    const unsigned int flags = dkim_sig_getflags(sig);
    const int err = dkim_sig_geterror(sig);
    const int bh = dkim_sig_getbh(sig);
    ssize_t msglen = -1, canonlen = -1, signlen = -1;
    dkim_sig_getcanonlen(dkim, sig, &msglen, &canonlen, &signlen);

    if (auto it = v.temp_failed.find({out.domain, lower(out.selector)}); it != v.temp_failed.end()) {
        out.result = DkimResult::temperror;
        out.error = "key lookup failed: " + it->second;
        return out;
    }
    if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH) {
        // l= shorter than the body: the rest could be anything (SPEC §6).
        if (signlen >= 0 && msglen >= 0 && signlen < msglen) {
            out.result = DkimResult::policy;
            out.covers_body = false;
            out.error = "l= covers only part of the body";
        } else {
            out.result = DkimResult::pass;
        }
        return out;
    }
    if ((flags & DKIM_SIGFLAG_PROCESSED) != 0 && err == DKIM_SIGERROR_OK && bh == DKIM_SIGBH_MISMATCH) {
        out.result = DkimResult::fail;
        out.error = "body hash did not verify";
        return out;
    }
    const char* es = dkim_sig_geterrorstr(static_cast<DKIM_SIGERROR>(err));
    out.error = es ? es : "signature did not verify";
    switch (err) {
        case DKIM_SIGERROR_BADSIG:
        case DKIM_SIGERROR_EXPIRED:
        case DKIM_SIGERROR_FUTURE:
        case DKIM_SIGERROR_TOOLARGE_L:
            out.result = DkimResult::fail;
            break;
        case DKIM_SIGERROR_KEYFAIL:
            out.result = DkimResult::temperror;
            break;
        case DKIM_SIGERROR_NOKEY:
        case DKIM_SIGERROR_DNSSYNTAX:
        case DKIM_SIGERROR_MULTIREPLY:
            out.result = DkimResult::permerror;
            break;
        case DKIM_SIGERROR_OK:
            // Processed without an error, but not passed: the header hash.
            out.result = DkimResult::fail;
            if (!es || !*es) out.error = "signature did not verify";
            break;
        default:
            // Syntax or unsupported parameters (RFC 8601 §2.7.1: neutral
            // is "could not be processed"), and key problems.
            out.result = err >= DKIM_SIGERROR_NOKEY ? DkimResult::permerror : DkimResult::neutral;
            break;
    }
    return out;
}

}  // namespace

DkimVerdicts verify_dkim(const BlockingDns& dns, std::string_view message) {
    bool given = false;
    const MessageBlocks once = [&](std::string& block) {
        block = given ? std::string() : std::string(message);
        given = true;
        return true;
    };
    return verify_dkim_blocks(dns, once);
}

DkimVerdicts verify_dkim_blocks(const BlockingDns& dns, const MessageBlocks& next) {
    DkimVerdicts out;
    DKIM_LIB* lib = library();
    if (!lib) {
        out.push_back(DkimVerdict{DkimResult::temperror, "", "", true, "libopendkim could not start"});
        return out;
    }
    Verification v;
    v.dns = &dns;
    v.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    DKIM_STAT st = DKIM_STAT_OK;
    const unsigned char job[] = "mxgate";
    DKIM* dkim = dkim_verify(lib, job, nullptr, &st);
    if (!dkim) {
        out.push_back(DkimVerdict{DkimResult::temperror, "", "", true, "libopendkim: no handle"});
        return out;
    }
    dkim_set_user_context(dkim, &v);
    // dkim_chunk takes any split of the message (it keeps partial lines).
    std::string block;
    bool read_ok = true;
    for (;;) {
        if (!next(block)) {
            read_ok = false;
            break;
        }
        if (block.empty()) break;
        st = dkim_chunk(dkim, reinterpret_cast<u_char*>(block.data()), block.size());
        if (st != DKIM_STAT_OK) break;
    }
    if (!read_ok) {
        dkim_free(dkim);
        out.push_back(DkimVerdict{DkimResult::temperror, "", "", true, "message could not be read back from the spool"});
        return out;
    }
    if (st == DKIM_STAT_OK) st = dkim_chunk(dkim, nullptr, 0);
    if (st == DKIM_STAT_OK || st == DKIM_STAT_NOSIG) {
        bool testkey = false;
        st = dkim_eom(dkim, &testkey);
    }
    DKIM_SIGINFO** sigs = nullptr;
    int nsigs = 0;
    if (dkim_getsiglist(dkim, &sigs, &nsigs) == DKIM_STAT_OK && sigs) {
        for (int i = 0; i < nsigs; ++i)
            if ((dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE) == 0) out.push_back(evaluate(dkim, sigs[i], v));
    }
    if (v.ignored > 0)
        out.push_back(DkimVerdict{DkimResult::policy, "", "", false,
                                  std::to_string(v.ignored) + " more signatures not evaluated, the limit is " +
                                      std::to_string(kMaxDkimSignatures),
                                  v.ignored});
    // Defensive: should libopendkim still give no signature list after a
    // key lookup failed temporarily, report those signatures as temperror,
    // so a DNS outage never reads as "unsigned".
    if (out.empty()) {
        for (const auto& [ds, why] : v.temp_failed)
            out.push_back(DkimVerdict{DkimResult::temperror, ds.first, ds.second, true, "key lookup failed: " + why});
    }
    dkim_free(dkim);
    return out;
}

}  // namespace mxgate::dmarc
