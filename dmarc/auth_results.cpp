// dmarc/auth_results.cpp — RFC 8601 header rendering and filtering.
#include "dmarc/auth_results.hpp"

namespace mxgate::dmarc {

namespace {

// RFC 8601 values are tokens or quoted strings; domains and selectors from
// the peer are reduced to host-name characters so they can never break out.
std::string safe(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '-' || c == '_';
        out.push_back(ok ? c : '?');
    }
    if (out.size() > 255) out.resize(255);
    return out.empty() ? "unknown" : out;
}

// Text of our own for a comment: no parentheses, backslashes or controls.
std::string safe_comment(std::string_view s) {
    std::string out;
    for (const char c : s.substr(0, 200)) out.push_back((c >= 0x20 && c < 0x7f && c != '(' && c != ')' && c != '\\') ? c : '?');
    return out;
}

const char* dkim_word(const DkimVerdict& d) {
    // SPEC §6: a signature short of the whole body counts as none; say so.
    if (d.result == DkimResult::pass && !d.covers_body) return "policy";
    return to_string(d.result);
}

}  // namespace

std::string authentication_results(const AuthResultsInput& in) {
    std::string h = "Authentication-Results: " + safe(in.authserv_id);
    bool any = false;
    auto add = [&](const std::string& clause) {
        h += ";\r\n\t" + clause;
        any = true;
    };
    if (in.spf_checked) {
        std::string c = std::string("spf=") + to_string(in.spf.result);
        c += in.spf.identity == "helo" ? " smtp.helo=" : " smtp.mailfrom=";
        c += safe(in.spf.domain);
        add(c);
    }
    if (in.dkim_checked) {
        if (in.dkim.empty()) add("dkim=none");
        for (const DkimVerdict& d : in.dkim) {
            if (d.not_evaluated > 0) {
                // The signatures beyond the verifier's limit (dkim_verify.hpp).
                add("dkim=policy (" + safe_comment(d.error) + ")");
                continue;
            }
            std::string c = std::string("dkim=") + dkim_word(d);
            if (d.result == DkimResult::pass && !d.covers_body) c += " (l= does not cover the body)";
            c += " header.d=" + safe(d.domain) + " header.s=" + safe(d.selector);
            add(c);
        }
    }
    if (in.dmarc_checked) {
        std::string c = std::string("dmarc=") + to_string(in.dmarc.result);
        if (in.dmarc.policy)
            c += std::string(" (p=") + to_string(*in.dmarc.policy) + " dis=" + to_string(in.dmarc.disposition) + ")";
        c += " header.from=" + safe(in.from_domain);
        add(c);
    }
    if (!any) h += "; none";
    h += "\r\n";
    return h;
}

std::string authserv_id_of(std::string_view v) {
    size_t i = 0;
    // Skip WSP and (nested) comments.
    while (i < v.size()) {
        if (v[i] == ' ' || v[i] == '\t') {
            ++i;
        } else if (v[i] == '(') {
            int depth = 0;
            for (; i < v.size(); ++i) {
                if (v[i] == '\\') {
                    ++i;
                } else if (v[i] == '(') {
                    ++depth;
                } else if (v[i] == ')' && --depth == 0) {
                    ++i;
                    break;
                }
            }
        } else {
            break;
        }
    }
    size_t end = i;
    while (end < v.size() && v[end] != ';' && v[end] != ' ' && v[end] != '\t' && v[end] != '(') ++end;
    return std::string(v.substr(i, end - i));
}

std::string strip_own_auth_results(std::string_view message, const HeaderBlock& headers, std::string_view id,
                                   size_t& removed) {
    removed = 0;
    std::string out;
    out.reserve(message.size());
    size_t pos = 0;
    for (const HeaderField& f : headers.fields) {
        if (f.is("Authentication-Results") && iequals(authserv_id_of(f.value), id)) {
            out.append(message.substr(pos, f.offset - pos));
            pos = f.offset + f.length;
            ++removed;
        }
    }
    out.append(message.substr(pos));
    return out;
}

}  // namespace mxgate::dmarc
