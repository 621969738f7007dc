// dmarc/dkim_sign.cpp — DKIM signing with libopendkim (dkim_sign.hpp).
#include "dmarc/dkim_sign.hpp"

#include <opendkim/dkim.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <vector>

namespace mxgate::dmarc {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool iequals(std::string_view a, std::string_view b) { return a.size() == b.size() && lower(a) == lower(b); }

// The header fields of prepend + the body's header block, each with its
// continuation lines and without the final CRLF.
std::vector<std::string> header_fields(std::string_view prepend, std::string_view body, size_t& body_start) {
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

std::string_view field_name(std::string_view field) {
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos) return {};
    std::string_view name = field.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    return name;
}

// Domain of the one address in a From: value; "" if none or several.
std::string address_domain(std::string_view v) {
    // Drop comments (RFC 5322 §3.2.2) and note angle brackets and commas
    // outside quoted strings.
    std::string plain;
    int depth = 0;
    bool quoted = false;
    size_t commas = 0;
    for (size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (quoted) {
            if (c == '\\') ++i;
            else if (c == '"') quoted = false;
            continue;  // display-name text is not needed
        }
        if (depth > 0) {
            if (c == '\\') ++i;
            else if (c == '(') ++depth;
            else if (c == ')') --depth;
            continue;
        }
        if (c == '"') quoted = true;
        else if (c == '(') depth = 1;
        else {
            if (c == ',' || c == ';') ++commas;
            plain += c;
        }
    }
    if (commas > 0 || quoted || depth > 0) return {};
    std::string_view addr = plain;
    if (const size_t lt = addr.rfind('<'); lt != std::string_view::npos) {
        const size_t gt = addr.find('>', lt);
        if (gt == std::string_view::npos) return {};
        addr = addr.substr(lt + 1, gt - lt - 1);
    }
    const size_t at = addr.rfind('@');
    if (at == std::string_view::npos) return {};
    std::string_view dom = addr.substr(at + 1);
    while (!dom.empty() && (dom.front() == ' ' || dom.front() == '\t' || dom.front() == '\r' || dom.front() == '\n'))
        dom.remove_prefix(1);
    while (!dom.empty() && (dom.back() == ' ' || dom.back() == '\t' || dom.back() == '\r' || dom.back() == '\n'))
        dom.remove_suffix(1);
    if (dom.empty() || dom.find_first_of(" \t\r\n<>@") != std::string_view::npos) return {};
    return lower(dom);
}

std::string from_domain_of(const std::vector<std::string>& fields) {
    std::string found;
    int froms = 0;
    for (const std::string& f : fields) {
        if (!iequals(field_name(f), "from")) continue;
        if (++froms > 1) return {};
        found = address_domain(std::string_view(f).substr(f.find(':') + 1));
    }
    return found;
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

std::string from_header_domain(std::string_view message) {
    size_t body_start = 0;
    return from_domain_of(header_fields({}, message, body_start));
}

const conf::Domain* dkim_signer_for(const conf::Config& cfg, std::string_view prepend, std::string_view body) {
    size_t body_start = 0;
    const std::string dom = from_domain_of(header_fields(prepend, body, body_start));
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
    std::vector<std::string> fields = header_fields(prepend, body, body_start);
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
