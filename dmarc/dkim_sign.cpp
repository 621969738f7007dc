// dmarc/dkim_sign.cpp — DKIM signing with libopendkim (dkim_sign.hpp).
#include "dmarc/dkim_sign.hpp"

#include "dmarc/author.hpp"
#include "dmarc/header_fields.hpp"

// dkim.h uses C99 _Bool; C++ spells it bool (same ABI).
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <vector>

namespace mxgate::dmarc {

namespace {

// The header fields of prepend + the body's header block, each with its
// continuation lines and without the final CRLF.
std::vector<std::string> signing_fields(std::string_view prepend, std::string_view body, size_t& body_start) {
    std::vector<std::string> out;
    body_start = body.size();
    auto take = [&](std::string_view text, bool is_body) {
        size_t pos = 0;
        while (pos < text.size()) {
            size_t eol = text.find("\r\n", pos);
            if (eol == std::string_view::npos) eol = text.size();
            std::string_view line = text.substr(pos, eol - pos);
            const size_t next = std::min(text.size(), eol + 2);
            if (line.empty()) {  // end of the header block
                if (is_body) body_start = next;
                return;
            }
            if ((line[0] == ' ' || line[0] == '\t') && !out.empty())
                out.back().append("\r\n").append(line);
            else
                out.emplace_back(line);
            pos = next;
        }
    };
    take(prepend, false);
    take(body, true);
    return out;
}

// The one author domain of the From: header (dmarc/author.hpp rules).
std::string from_domain_of(std::string_view prepend, std::string_view body) {
    std::string block(prepend);
    const HeaderBlock in_body = split_header_block(body);
    block.append(body.substr(0, in_body.body_offset));
    const Author a = find_author(split_header_block(block));
    if (!a.ok || a.domains.size() != 1) return {};
    return a.domains.front();
}

// One library handle for the process; libopendkim allows concurrent
// signing contexts on one handle (the opendkim milter does so).
DKIM_LIB* library() {
    static DKIM_LIB* lib = [] {
        DKIM_LIB* l = dkim_init(nullptr, nullptr);
        if (l != nullptr) {
            // Over-sign From: (one more instance than present): a second
            // From: added in transit invalidates the signature.
            static const char* oversign[] = {"from", nullptr};
            dkim_options(l, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, oversign, sizeof oversign);
        }
        return l;
    }();
    return lib;
}

struct DkimFree {
    void operator()(DKIM* d) const { dkim_free(d); }
};

std::string status_text(DKIM* d, DKIM_STAT st) {
    std::string s = dkim_getresultstr(st) ? dkim_getresultstr(st) : "error";
    if (d != nullptr) {
        const char* e = dkim_geterror(d);
        if (e != nullptr && *e) s += std::string(": ") + e;
    }
    return s;
}

}  // namespace

std::string from_header_domain(std::string_view message) { return from_domain_of({}, message); }

const conf::Domain* dkim_signer_for(const conf::Config& cfg, std::string_view prepend, std::string_view body) {
    const std::string dom = from_domain_of(prepend, body);
    if (dom.empty()) return nullptr;
    const conf::Domain* d = cfg.find_domain(dom);
    return d != nullptr && d->dkim ? d : nullptr;
}

std::optional<std::string> sign_message(const conf::Domain& domain, std::string_view prepend,
                                        std::string_view body, std::string& error) {
    if (!domain.dkim) {
        error = "domain " + domain.name + " has no dkim key";
        return std::nullopt;
    }
    std::ifstream in(domain.dkim->key, std::ios::binary);
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) key.clear();
    if (key.empty()) {
        error = "domains." + domain.name + ".dkim.key: cannot read " + domain.dkim->key;
        return std::nullopt;
    }
    DKIM_LIB* lib = library();
    if (lib == nullptr) {
        error = "dkim: cannot initialise libopendkim";
        return std::nullopt;
    }
    DKIM_STAT st = DKIM_STAT_OK;
    std::unique_ptr<DKIM, DkimFree> d(dkim_sign(lib, reinterpret_cast<const unsigned char*>("mxgate"), nullptr,
                                                reinterpret_cast<dkim_sigkey_t>(key.data()),
                                                reinterpret_cast<const unsigned char*>(domain.dkim->selector.c_str()),
                                                reinterpret_cast<const unsigned char*>(domain.name.c_str()),
                                                DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st));
    std::fill(key.begin(), key.end(), '\0');
    if (!d) {
        error = "dkim: signing with " + domain.dkim->key + " failed: " + status_text(nullptr, st);
        return std::nullopt;
    }
    size_t body_start = 0;
    std::vector<std::string> fields = signing_fields(prepend, body, body_start);
    for (std::string& f : fields) {
        st = dkim_header(d.get(), reinterpret_cast<unsigned char*>(f.data()), f.size());
        if (st != DKIM_STAT_OK) {
            error = "dkim: header: " + status_text(d.get(), st);
            return std::nullopt;
        }
    }
    st = dkim_eoh(d.get());
    if (st != DKIM_STAT_OK) {
        error = "dkim: end of headers: " + status_text(d.get(), st);
        return std::nullopt;
    }
    std::string_view rest = body.substr(std::min(body_start, body.size()));
    constexpr size_t kChunk = 64 * 1024;
    for (size_t pos = 0; pos < rest.size(); pos += kChunk) {
        std::string_view chunk = rest.substr(pos, kChunk);
        // dkim_body takes a non-const pointer but does not write to it.
        st = dkim_body(d.get(), reinterpret_cast<unsigned char*>(const_cast<char*>(chunk.data())), chunk.size());
        if (st != DKIM_STAT_OK) {
            error = "dkim: body: " + status_text(d.get(), st);
            return std::nullopt;
        }
    }
    st = dkim_eom(d.get(), nullptr);
    if (st != DKIM_STAT_OK) {
        error = "dkim: signing with " + domain.dkim->key + " failed: " + status_text(d.get(), st);
        return std::nullopt;
    }
    static constexpr std::string_view kName = "DKIM-Signature: ";
    unsigned char* buf = nullptr;
    size_t len = 0;
    st = dkim_getsighdr_d(d.get(), kName.size(), &buf, &len);
    if (st != DKIM_STAT_OK || buf == nullptr) {
        error = "dkim: no signature header: " + status_text(d.get(), st);
        return std::nullopt;
    }
    // libopendkim folds with bare LF; the wire and the spool use CRLF.
    std::string out(kName);
    for (size_t i = 0; i < len; ++i) {
        const char c = static_cast<char>(buf[i]);
        if (c == '\n' && (out.empty() || out.back() != '\r')) out += '\r';
        out += c;
    }
    out += "\r\n";
    return out;
}

}  // namespace mxgate::dmarc
