// relay/smtp/command_parser.cpp — verb recognition and per-verb argument
// parsing (see command.hpp for the grammar references).
//
// SECURITY: untrusted text; only bounded views and copies.
#include <array>
#include <utility>

#include "relay/smtp/ascii.hpp"
#include "relay/smtp/command.hpp"
#include "relay/smtp/esmtp_params.hpp"

namespace mxgate::smtp {
namespace {

constexpr std::array<std::pair<std::string_view, Verb>, 15> kVerbs{{
    {"HELO", Verb::helo}, {"EHLO", Verb::ehlo}, {"MAIL", Verb::mail}, {"RCPT", Verb::rcpt},
    {"DATA", Verb::data}, {"BDAT", Verb::bdat}, {"RSET", Verb::rset}, {"NOOP", Verb::noop},
    {"QUIT", Verb::quit}, {"VRFY", Verb::vrfy}, {"EXPN", Verb::expn}, {"HELP", Verb::help},
    {"STARTTLS", Verb::starttls}, {"AUTH", Verb::auth}, {"ETRN", Verb::etrn},
}};

ParseResult fail(ParseResult r, ParseError e, std::string detail) {
    r.error = e;
    r.detail = std::move(detail);
    return r;
}

// HELO/EHLO argument: Domain or address-literal (RFC 5321 §4.1.1.1). We
// also tolerate '_' in labels and one trailing dot, which real clients send
// (RFC 5321 §4.1.4: the name is not a reason to refuse the session).
bool valid_helo_name(std::string_view s) {
    if (!s.empty() && s.front() == '[') return valid_address_literal(s);
    std::string d(s);
    if (!d.empty() && d.back() == '.') d.pop_back();
    for (char& c : d)
        if (c == '_') c = 'x';
    return valid_domain(d, false);
}

ParseResult parse_helo(ParseResult r, std::string_view args) {
    const char* usage = r.command.verb == Verb::ehlo ? "Syntax: EHLO hostname" : "Syntax: HELO hostname";
    if (args.empty()) return fail(std::move(r), ParseError::missing_argument, usage);
    if (args.find(' ') != std::string_view::npos || !valid_helo_name(args))
        return fail(std::move(r), ParseError::bad_domain, usage);
    r.command.args = HeloArgs{std::string(args), args.front() == '['};
    return r;
}

// "FROM:" / "TO:" then optional spaces (a Postfix-compatible tolerance),
// then a bracketed path and parameters.
ParseResult parse_mail_rcpt(ParseResult r, std::string_view args) {
    const bool is_mail = r.command.verb == Verb::mail;
    const std::string_view keyword = is_mail ? "FROM:" : "TO:";
    const char* usage = is_mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>";
    if (!ascii::istarts_with(args, keyword)) return fail(std::move(r), ParseError::bad_syntax, usage);
    args.remove_prefix(keyword.size());
    while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
    if (args.empty() || args.front() != '<') return fail(std::move(r), ParseError::bad_syntax, usage);

    PathArgs pa;
    std::string_view rest;
    std::string detail;
    ParseError e = parse_path(args, is_mail, pa.path, rest, detail);
    if (e != ParseError::none) return fail(std::move(r), e, detail);
    e = parse_params(rest, is_mail, pa.params, detail);
    if (e != ParseError::none) return fail(std::move(r), e, detail);
    r.command.args = std::move(pa);
    return r;
}

// bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]   (RFC 3030 §2)
ParseResult parse_bdat(ParseResult r, std::string_view args) {
    constexpr const char* usage = "Syntax: BDAT size [LAST]";
    if (args.empty()) return fail(std::move(r), ParseError::missing_argument, usage);
    const size_t sp = args.find(' ');
    const std::string_view num = args.substr(0, sp);
    BdatArgs b;
    if (num.empty() || num.size() > 20) return fail(std::move(r), ParseError::bad_syntax, usage);
    for (char c : num) {
        if (!ascii::is_digit(c)) return fail(std::move(r), ParseError::bad_syntax, usage);
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (b.size > (UINT64_MAX - d) / 10) return fail(std::move(r), ParseError::bad_syntax, usage);
        b.size = b.size * 10 + d;
    }
    if (sp != std::string_view::npos) {
        if (!ascii::iequals(args.substr(sp + 1), "LAST")) return fail(std::move(r), ParseError::bad_syntax, usage);
        b.last = true;
    }
    r.command.args = b;
    return r;
}

// etrn = "ETRN" SP ( domain / "@" domain / "#" queue-name )   (RFC 1985 §5)
ParseResult parse_etrn(ParseResult r, std::string_view args) {
    constexpr const char* usage = "Syntax: ETRN domain";
    if (args.empty()) return fail(std::move(r), ParseError::missing_argument, usage);
    EtrnArgs e;
    std::string_view name = args;
    if (name.front() == '@') {
        e.kind = EtrnArgs::Kind::subdomains;
        name.remove_prefix(1);
    } else if (name.front() == '#') {
        e.kind = EtrnArgs::Kind::queue;
        name.remove_prefix(1);
    }
    if (e.kind == EtrnArgs::Kind::queue) {
        if (name.empty()) return fail(std::move(r), ParseError::bad_domain, usage);
        for (char c : name)
            if (static_cast<unsigned char>(c) <= 32 || static_cast<unsigned char>(c) >= 127)
                return fail(std::move(r), ParseError::bad_domain, usage);
    } else if (!valid_domain(name, false)) {
        return fail(std::move(r), ParseError::bad_domain, usage);
    }
    e.name = std::string(name);
    r.command.args = std::move(e);
    return r;
}

// auth = "AUTH" SP sasl-mech [SP initial-response]   (RFC 4954 §4)
// sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_")  (RFC 4422 §3.1)
ParseResult parse_auth(ParseResult r, std::string_view args) {
    constexpr const char* usage = "Syntax: AUTH mechanism [initial-response]";
    if (args.empty()) return fail(std::move(r), ParseError::missing_argument, usage);
    const size_t sp = args.find(' ');
    const std::string_view mech = args.substr(0, sp);
    if (mech.empty() || mech.size() > 20) return fail(std::move(r), ParseError::bad_syntax, usage);
    for (char c : mech)
        if (!ascii::is_alnum(c) && c != '-' && c != '_') return fail(std::move(r), ParseError::bad_syntax, usage);
    AuthArgs a;
    a.mechanism = ascii::to_upper(mech);
    if (sp != std::string_view::npos) {
        const std::string_view resp = args.substr(sp + 1);
        if (resp.empty() || resp.find(' ') != std::string_view::npos)
            return fail(std::move(r), ParseError::unexpected_argument, usage);
        a.initial_response = std::string(resp);
    }
    r.command.args = std::move(a);
    return r;
}

}  // namespace

std::string_view verb_name(Verb v) {
    for (const auto& [name, verb] : kVerbs)
        if (verb == v) return name;
    return "unknown";
}

ParseResult parse_command(std::string_view line) {
    ParseResult r;
    const size_t sp = line.find(' ');
    const std::string_view word = line.substr(0, sp);
    for (const auto& [name, verb] : kVerbs)
        if (ascii::iequals(word, name)) r.command.verb = verb;
    if (r.command.verb == Verb::unknown)
        return fail(std::move(r), ParseError::unknown_command, line.empty() ? "Empty command" : "Command unrecognized");

    // Arguments: tolerate repeated spaces after the verb and trailing
    // whitespace (common client sloppiness; no ambiguity results).
    std::string_view args = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
    while (!args.empty() && (args.back() == ' ' || args.back() == '\t')) args.remove_suffix(1);

    switch (r.command.verb) {
        case Verb::helo:
        case Verb::ehlo:
            return parse_helo(std::move(r), args);
        case Verb::mail:
        case Verb::rcpt:
            return parse_mail_rcpt(std::move(r), args);
        case Verb::bdat:
            return parse_bdat(std::move(r), args);
        case Verb::etrn:
            return parse_etrn(std::move(r), args);
        case Verb::auth:
            return parse_auth(std::move(r), args);
        case Verb::data:
        case Verb::rset:
        case Verb::quit:
        case Verb::starttls:
            // RFC 5321 §4.1.1.4/.5/.10, RFC 3207 §4: no parameters.
            if (!args.empty())
                return fail(std::move(r), ParseError::unexpected_argument,
                            "Syntax: " + std::string(verb_name(r.command.verb)));
            return r;
        case Verb::vrfy:
        case Verb::expn:
            if (args.empty())
                return fail(std::move(r), ParseError::missing_argument,
                            "Syntax: " + std::string(verb_name(r.command.verb)) + " address");
            r.command.args = TextArgs{std::string(args)};
            return r;
        case Verb::noop:
        case Verb::help:
            r.command.args = TextArgs{std::string(args)};
            return r;
        case Verb::unknown:
            break;
    }
    return r;
}

}  // namespace mxgate::smtp
