// tests/fuzz/sasl_response_fuzz.cpp — libFuzzer target for what a client
// sends during SMTP AUTH: the input is a byte stream of CRLF lines; the
// first is parsed as a command, every line as a SASL response.
//
// Checked properties (abort on violation):
//  - base64 is canonical: whatever decodes re-encodes to exactly the input
//    (one spelling per byte string, no lenient half-decoding);
//  - "*" and only "*" cancels; an AUTH command's mechanism is upper-case
//    and its initial response has no space;
//  - a PLAIN message that parses has a non-empty authcid and password and
//    no NUL inside any part, and the three parts joined with NULs give
//    back the message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/base64.hpp"
#include "auth/sasl_response.hpp"
#include "relay/smtp/command.hpp"
#include "relay/smtp/line_framer.hpp"

using namespace mxgate;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void response(std::string_view line, bool initial) {
    const auth::SaslResponse r = auth::decode_sasl_response(line, initial);
    check((r.kind == auth::SaslResponse::Kind::cancel) == (line == "*"));
    if (r.kind != auth::SaslResponse::Kind::data) return;
    if (!(initial && line == "=")) check(auth::encode_base64(r.data) == line);
    if (const auto p = auth::parse_plain(r.data)) {
        check(!p->authcid.empty() && !p->password.empty());
        for (const std::string* s : {&p->authzid, &p->authcid, &p->password})
            check(s->find('\0') == std::string::npos);
        check(p->authzid + '\0' + p->authcid + '\0' + p->password == r.data);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    smtp::LineFramer framer;
    bool first = true;
    while (!in.empty()) {
        const smtp::Frame f = framer.next(in);
        check(f.consumed <= in.size());
        if (f.status == smtp::FrameStatus::need_more) {
            response(in, false);  // an unterminated tail, as if it were a line
            break;
        }
        if (f.status == smtp::FrameStatus::line) {
            if (first) {
                const smtp::ParseResult p = smtp::parse_command(f.line);
                if (p.ok() && p.command.verb == smtp::Verb::auth) {
                    const auto& a = std::get<smtp::AuthArgs>(p.command.args);
                    for (char c : a.mechanism) check(!(c >= 'a' && c <= 'z'));
                    if (a.initial_response) {
                        check(a.initial_response->find(' ') == std::string::npos);
                        response(*a.initial_response, true);
                    }
                }
            }
            response(f.line, false);
        }
        first = false;
        if (f.consumed == 0) break;
        in.remove_prefix(f.consumed);
    }
    return 0;
}
