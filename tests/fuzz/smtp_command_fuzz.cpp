// tests/fuzz/smtp_command_fuzz.cpp — libFuzzer target for the server's
// command side: the input is a raw client byte stream.
//
// Checked properties (abort on violation):
//  - the LineFramer gives the same transcript (lines and errors) whether the
//    stream arrives whole or one byte at a time; `consumed` never exceeds
//    the input; a line never holds CR, LF or NUL, nor more than 510 octets;
//  - every parse error maps to a 5xx reply with an enhanced code and a
//    single-line wire form;
//  - a parsed path re-parses from its address() to the same mailbox;
//  - REQUIRETLS is set exactly when the parameter was given, on MAIL only,
//    without a value (RFC 8689 §2);
//  - recipient policy never accepts a path that classify_relay() flags, or
//    a domain that is not an owner domain (except <postmaster>): never an
//    open relay, whatever the form.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "relay/smtp/smtp.hpp"

using namespace mxgate;
using namespace mxgate::smtp;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

// A tiny Config built from struct fields only (no conf/*.cpp needed).
const conf::Config& config() {
    static const conf::Config cfg = [] {
        conf::Config c;
        conf::Domain a;
        a.name = "example.org";
        a.recipients = {"alice@example.org", "\"q\"@example.org"};
        conf::Domain b;
        b.name = "example.net";
        b.recipients = {"@example.net"};
        c.domains = {a, b};
        return c;
    }();
    return cfg;
}

std::vector<std::string> frame(std::string_view data, size_t step) {
    LineFramer fr;
    std::string buf;
    std::vector<std::string> out;
    size_t pos = 0;
    while (true) {
        const Frame f = fr.next(buf);
        check(f.consumed <= buf.size());
        if (f.status == FrameStatus::line) {
            check(f.line.size() <= kMaxCommandLine - 2);
            check(f.line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
            out.emplace_back(f.line);
        } else if (f.is_error()) {
            out.push_back("\x01" + std::to_string(static_cast<int>(f.status)));
        }
        buf.erase(0, f.consumed);
        if (f.status == FrameStatus::need_more) {
            if (pos >= data.size()) break;
            const size_t n = step == 0 ? data.size() - pos : std::min(step, data.size() - pos);
            buf.append(data.substr(pos, n));
            pos += n;
        }
        check(buf.size() <= data.size());
    }
    return out;
}

void check_reply(const core::Reply& r) {
    const std::string wire = r.format();
    check(wire.size() >= 2 && wire.find("\r\n") == wire.size() - 2);
    check(!r.enhanced.empty());
}

void check_path(const Path& p, bool is_rcpt) {
    if (!p.null && !p.postmaster) {
        const auto again = parse_mailbox(p.address());
        check(again.has_value());
        check(again->local_part == p.local_part && again->domain == p.domain && again->has_at == p.has_at &&
              again->trailing_dot == p.trailing_dot && again->address_literal == p.address_literal);
    }
    if (!is_rcpt) return;
    const RecipientDecision d = check_recipient(config(), p);
    check_reply(d.reply);
    if (d.accepted()) {
        check(d.domain != nullptr);
        if (!p.postmaster) {
            check(classify_relay(p) == relay_form::none);
            check(p.has_at && !p.domain.empty() && !p.address_literal && !p.trailing_dot && p.route.empty());
            check(p.local_part.find_first_of("%!@") == std::string::npos);
            std::string lower = p.domain;
            for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
            check(lower == d.domain->name);
        }
    } else {
        check(d.reply.code == 554 || d.reply.code == 550);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    const std::vector<std::string> whole = frame(in, 0);
    check(frame(in, 1) == whole);

    for (const std::string& line : whole) {
        if (!line.empty() && line[0] == '\x01') {
            check_reply(replies::frame_error(static_cast<FrameStatus>(line[1] - '0')));
            continue;
        }
        const ParseResult p = parse_command(line);
        if (!p.ok()) {
            const core::Reply r = replies::parse_error(p);
            check(r.code >= 500 && r.code <= 555);
            check_reply(r);
            continue;
        }
        if (const auto* pa = std::get_if<PathArgs>(&p.command.args)) {
            check_path(pa->path, p.command.verb == Verb::rcpt);
            // RFC 8689 §2: REQUIRETLS is a MAIL parameter without a value.
            const auto it = pa->params.all.find("REQUIRETLS");
            check(pa->params.requiretls == (it != pa->params.all.end()));
            if (pa->params.requiretls) check(p.command.verb == Verb::mail && it->second.empty());
        }
    }

    // The raw input as one mailbox, as RCPT would see it.
    if (size <= 600) {
        if (const auto p = parse_mailbox(in)) check_path(*p, true);
    }
    return 0;
}
