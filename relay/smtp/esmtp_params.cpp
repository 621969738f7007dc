// relay/smtp/esmtp_params.cpp — validates MAIL/RCPT ESMTP parameters.
//
//   esmtp-param   = esmtp-keyword ["=" esmtp-value]        (RFC 5321 §4.1.2)
//   esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
//   esmtp-value   = 1*(%d33-60 / %d62-126)  (+ UTF8-non-ascii, RFC 6531 §3.3)
//
// Known parameters and where they may appear:
//   MAIL: SIZE (RFC 1870 §6), BODY (RFC 6152 §2), SMTPUTF8 (RFC 6531 §3.4),
//         RET and ENVID (RFC 3461 §4.3, §4.4), AUTH (RFC 4954 §5; accepted
//         because authenticated clients send it, its value is not used),
//         REQUIRETLS (RFC 8689 §2: no value; whether the session may use
//         it — TLS, advertised — is the session's decision, not syntax)
//   RCPT: NOTIFY and ORCPT (RFC 3461 §4.1, §4.2)
// An unknown keyword, or a known one on the wrong verb, is 555 5.5.4
// (RFC 5321 §4.1.1.11); a bad value or a repeated keyword is 501 5.5.4.
//
// SECURITY: untrusted text; SIZE is bounded so it cannot overflow.
#include "relay/smtp/esmtp_params.hpp"

#include "relay/smtp/ascii.hpp"

namespace mxgate::smtp {
namespace {

bool valid_keyword(std::string_view k) {
    if (k.empty() || !ascii::is_alnum(k[0])) return false;
    for (char c : k)
        if (!ascii::is_alnum(c) && c != '-') return false;
    return true;
}

bool valid_value(std::string_view v) {
    if (v.empty()) return false;
    for (size_t i = 0; i < v.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(v[i]);
        if (c >= 0x80) {
            const size_t n = utf8::sequence_length(v, i);
            if (n == 0) return false;
            i += n - 1;
        } else if (c < 33 || c > 126 || c == '=') {
            return false;
        }
    }
    return true;
}

// xtext = *( xchar / hexchar ); xchar = %d33-42 / %d44-60 / %d62-126;
// hexchar = "+" 2(%x30-39 / %x41-46)   (RFC 3461 §4)
bool valid_xtext(std::string_view v) {
    for (size_t i = 0; i < v.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(v[i]);
        if (c == '+') {
            if (i + 2 >= v.size()) return false;
            for (size_t k = 1; k <= 2; ++k) {
                const char h = v[i + k];
                if (!ascii::is_digit(h) && !(h >= 'A' && h <= 'F')) return false;
            }
            i += 2;
        } else if (c < 33 || c > 126 || c == '=') {
            return false;
        }
    }
    return true;
}

// 1..20 decimal digits whose value fits in 64 bits.
bool parse_u64(std::string_view v, uint64_t& out) {
    if (v.empty() || v.size() > 20) return false;
    uint64_t n = 0;
    for (char c : v) {
        if (!ascii::is_digit(c)) return false;
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10) return false;
        n = n * 10 + d;
    }
    out = n;
    return true;
}

enum class Where { mail, rcpt };

ParseError apply(std::string_view key, std::string_view value, bool has_value, Where where, Params& out,
                 std::string& detail) {
    auto need_mail = [&]() {
        if (where == Where::mail) return true;
        detail = std::string(key) + " not allowed in RCPT";
        return false;
    };
    auto need_rcpt = [&]() {
        if (where == Where::rcpt) return true;
        detail = std::string(key) + " not allowed in MAIL";
        return false;
    };
    auto bad_value = [&]() {
        detail = "Bad " + std::string(key) + " value";
        return ParseError::bad_parameter_value;
    };

    if (key == "SIZE") {
        if (!need_mail()) return ParseError::parameter_not_allowed;
        uint64_t n = 0;
        if (!has_value || !parse_u64(value, n)) return bad_value();
        out.size = n;
    } else if (key == "BODY") {
        if (!need_mail()) return ParseError::parameter_not_allowed;
        if (ascii::iequals(value, "7BIT"))
            out.body = BodyType::seven_bit;
        else if (ascii::iequals(value, "8BITMIME"))
            out.body = BodyType::eight_bit_mime;
        else
            return bad_value();  // BINARYMIME is not offered (no RFC 3030 BINARYMIME)
    } else if (key == "SMTPUTF8") {
        if (!need_mail()) return ParseError::parameter_not_allowed;
        if (has_value) return bad_value();
        out.smtputf8 = true;
    } else if (key == "RET") {
        if (!need_mail()) return ParseError::parameter_not_allowed;
        if (ascii::iequals(value, "FULL"))
            out.ret = RetType::full;
        else if (ascii::iequals(value, "HDRS"))
            out.ret = RetType::hdrs;
        else
            return bad_value();
    } else if (key == "ENVID") {
        if (!need_mail()) return ParseError::parameter_not_allowed;
        if (!has_value || value.size() > 100 || !valid_xtext(value)) return bad_value();  // RFC 3461 §4.4
        out.envid = std::string(value);
    } else if (key == "REQUIRETLS") {
        if (!need_mail()) return ParseError::parameter_not_allowed;
        if (has_value) return bad_value();
        out.requiretls = true;
    } else if (key == "AUTH") {
        if (!need_mail()) return ParseError::parameter_not_allowed;
        if (!has_value || !valid_xtext(value)) return bad_value();
    } else if (key == "NOTIFY") {
        if (!need_rcpt()) return ParseError::parameter_not_allowed;
        if (!has_value) return bad_value();
        // "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" )   (RFC 3461 §4.1)
        size_t start = 0;
        while (true) {
            const size_t comma = value.find(',', start);
            const std::string item = ascii::to_upper(value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
            if (item != "NEVER" && item != "SUCCESS" && item != "FAILURE" && item != "DELAY") return bad_value();
            for (const auto& seen : out.notify)
                if (seen == item) return bad_value();
            out.notify.push_back(item);
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
        if (out.notify.size() > 1)
            for (const auto& item : out.notify)
                if (item == "NEVER") return bad_value();
    } else if (key == "ORCPT") {
        if (!need_rcpt()) return ParseError::parameter_not_allowed;
        // addr-type ";" xtext, addr-type an atom such as "rfc822" (RFC 3461 §4.2)
        const size_t semi = value.find(';');
        if (!has_value || semi == std::string_view::npos || semi == 0 || semi + 1 == value.size()) return bad_value();
        for (char c : value.substr(0, semi))
            if (!ascii::is_alnum(c) && c != '-') return bad_value();
        if (!valid_xtext(value.substr(semi + 1)) || value.size() > 500) return bad_value();
        out.orcpt = std::string(value);
    } else {
        detail = "Unsupported parameter " + std::string(key);
        return ParseError::unknown_parameter;
    }
    return ParseError::none;
}

}  // namespace

ParseError parse_params(std::string_view text, bool is_mail, Params& out, std::string& detail) {
    out = Params{};
    if (text.empty()) return ParseError::none;
    if (text.front() != ' ') {
        detail = "Bad address syntax";
        return is_mail ? ParseError::bad_sender_address : ParseError::bad_recipient_address;
    }
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ') ++i;  // tolerate repeated SP
        if (i == text.size()) break;
        size_t end = text.find(' ', i);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view param = text.substr(i, end - i);
        i = end;

        const size_t eq = param.find('=');
        const std::string_view raw_key = param.substr(0, eq);
        const bool has_value = eq != std::string_view::npos;
        const std::string_view value = has_value ? param.substr(eq + 1) : std::string_view{};
        if (!valid_keyword(raw_key) || (has_value && !valid_value(value))) {
            detail = "Bad parameter syntax";
            return ParseError::bad_syntax;
        }
        const std::string key = ascii::to_upper(raw_key);
        if (out.all.count(key) != 0) {
            detail = "Duplicate parameter " + key;
            return ParseError::duplicate_parameter;
        }
        const ParseError e = apply(key, value, has_value, is_mail ? Where::mail : Where::rcpt, out, detail);
        if (e != ParseError::none) return e;
        out.all.emplace(key, std::string(value));
    }
    return ParseError::none;
}

}  // namespace mxgate::smtp
