// relay/smtp/replies.cpp — the reply table (see replies.hpp).
#include "relay/smtp/replies.hpp"

namespace mxgate::smtp::replies {
namespace {

// Reply text must never contain CR, LF or other controls (a peer-influenced
// value could otherwise inject a second reply line).
std::string clean(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        const unsigned char u = static_cast<unsigned char>(c);
        out += (u < 32 || u == 127) ? '?' : c;
    }
    return out;
}

Reply r(int code, const char* esc, std::string text) { return Reply(code, esc, std::move(text)); }

}  // namespace

Reply greeting(std::string_view hostname) { return Reply(220, "", clean(hostname) + " ESMTP mxgate"); }
Reply helo(std::string_view hostname) { return Reply(250, "", clean(hostname)); }

Reply ehlo(std::string_view hostname, const EhloCaps& caps) {
    Reply out(250, "", clean(hostname));
    if (caps.pipelining) out.lines.emplace_back("PIPELINING");
    if (caps.size) out.lines.push_back("SIZE " + std::to_string(*caps.size));
    if (caps.etrn) out.lines.emplace_back("ETRN");
    if (caps.starttls) out.lines.emplace_back("STARTTLS");
    if (!caps.auth.empty()) {
        std::string line = "AUTH";
        for (const auto& m : caps.auth) line += " " + clean(m);
        out.lines.push_back(std::move(line));
    }
    if (caps.enhanced_status_codes) out.lines.emplace_back("ENHANCEDSTATUSCODES");
    if (caps.eight_bit_mime) out.lines.emplace_back("8BITMIME");
    if (caps.smtputf8) out.lines.emplace_back("SMTPUTF8");
    if (caps.dsn) out.lines.emplace_back("DSN");
    if (caps.chunking) out.lines.emplace_back("CHUNKING");
    if (caps.requiretls) out.lines.emplace_back("REQUIRETLS");
    return out;
}

Reply ok() { return r(250, "2.0.0", "Ok"); }
Reply sender_ok() { return r(250, "2.1.0", "Ok"); }
Reply recipient_ok() { return r(250, "2.1.5", "Ok"); }
Reply queued(std::string_view id) { return r(250, "2.0.0", "Ok: queued as " + clean(id)); }
Reply bdat_ok(uint64_t n) { return r(250, "2.0.0", "Ok: " + std::to_string(n) + " octets received"); }
Reply start_data() { return r(354, "2.0.0", "End data with <CR><LF>.<CR><LF>"); }
Reply bye() { return r(221, "2.0.0", "Bye"); }
Reply help() { return r(214, "2.0.0", "See RFC 5321"); }
Reply vrfy_not_verified() { return r(252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery"); }
Reply starttls_ready() { return r(220, "2.0.0", "Ready to start TLS"); }
Reply auth_success() { return r(235, "2.7.0", "Authentication successful"); }
Reply etrn_started() { return r(250, "2.0.0", "Queuing started"); }

Reply frame_error(FrameStatus s) {
    switch (s) {
        case FrameStatus::too_long: return r(500, "5.5.2", "Error: line too long");
        case FrameStatus::nul: return r(500, "5.5.2", "Error: NUL character in command");
        case FrameStatus::bare_lf: return r(500, "5.5.2", "Error: bare <LF> received");
        case FrameStatus::bare_cr: return r(500, "5.5.2", "Error: bare <CR> received");
        case FrameStatus::need_more:
        case FrameStatus::line: break;
    }
    return r(500, "5.5.2", "Error: bad command line");  // not an error status: caller bug
}

Reply parse_error(const ParseResult& p) {
    const std::string text = p.detail.empty() ? std::string("Syntax error") : clean(p.detail);
    switch (p.error) {
        case ParseError::unknown_command: return r(500, "5.5.1", "Error: " + text);
        case ParseError::bad_sender_address: return r(501, "5.1.7", text);    // RFC 3463 §3.2
        case ParseError::bad_recipient_address:
        case ParseError::null_recipient: return r(501, "5.1.3", text);        // RFC 3463 §3.2
        case ParseError::unknown_parameter:
        case ParseError::parameter_not_allowed: return r(555, "5.5.4", text); // RFC 5321 §4.1.1.11
        case ParseError::missing_argument:
        case ParseError::unexpected_argument:
        case ParseError::bad_syntax:
        case ParseError::bad_domain:
        case ParseError::bad_parameter_value:
        case ParseError::duplicate_parameter: return r(501, "5.5.4", text);
        case ParseError::none: break;
    }
    return r(501, "5.5.4", text);
}

Reply not_implemented(Verb v) { return r(502, "5.5.1", std::string(verb_name(v)) + " command not implemented"); }
Reply need_helo() { return r(503, "5.5.1", "Error: send HELO/EHLO first"); }
Reply auth_needs_ehlo() { return r(503, "5.5.1", "Error: send EHLO first"); }
Reply need_mail() { return r(503, "5.5.1", "Error: need MAIL command"); }
Reply need_rcpt() { return r(503, "5.5.1", "Error: need RCPT command"); }
Reply nested_mail() { return r(503, "5.5.1", "Error: nested MAIL command"); }
Reply bdat_data_mixed() { return r(503, "5.5.1", "Error: DATA and BDAT cannot be mixed"); }
Reply no_valid_recipients() { return r(554, "5.5.1", "Error: no valid recipients"); }
Reply smtputf8_required() { return r(553, "5.6.7", "Non-ASCII address requires SMTPUTF8"); }
Reply size_exceeded_declared() { return r(552, "5.3.4", "Message size exceeds fixed limit"); }

Reply tls_not_available() { return r(454, "4.7.0", "TLS not available due to temporary reason"); }
Reply tls_already_active() { return r(503, "5.5.1", "Error: TLS already active"); }
Reply starttls_first() { return r(530, "5.7.0", "Must issue a STARTTLS command first"); }
Reply auth_required() { return r(530, "5.7.0", "Authentication required"); }
Reply encryption_required() { return r(538, "5.7.11", "Encryption required"); }
Reply requiretls_needs_tls() { return r(530, "5.7.10", "REQUIRETLS needs a TLS session: issue STARTTLS first"); }
Reply requiretls_not_offered() { return r(555, "5.7.30", "REQUIRETLS not supported on this listener"); }
Reply requiretls_rcpt_refused() {
    return r(550, "5.7.30", "REQUIRETLS cannot be honoured for this recipient: its next hop is not verified TLS");
}
Reply auth_not_available() { return r(503, "5.5.1", "Error: authentication not enabled"); }
Reply already_authenticated() { return r(503, "5.5.1", "Error: already authenticated"); }
Reply auth_mechanism_unsupported() { return r(504, "5.5.4", "Unrecognized authentication type"); }
Reply auth_invalid() { return r(535, "5.7.8", "Authentication credentials invalid"); }
Reply auth_temporary_failure() { return r(454, "4.7.0", "Temporary authentication failure"); }
Reply auth_cancelled() { return r(501, "5.7.0", "Authentication cancelled"); }
Reply auth_bad_base64() { return r(501, "5.5.2", "Cannot decode response (invalid base64)"); }
Reply auth_challenge(std::string_view b64) {
    // RFC 4954 §4: "334" SP base64 — no enhanced code; the text is our own base64.
    return Reply(334, "", b64.empty() ? std::string() : clean(b64));
}
Reply auth_in_transaction() { return r(503, "5.5.1", "Error: AUTH not allowed during a mail transaction"); }
Reply auth_locked() { return r(454, "4.7.0", "Temporary authentication failure: too many failures, try again later"); }
Reply sender_not_owned() { return r(553, "5.7.1", "Sender address rejected: not owned by user"); }
Reply require_tls() { return r(530, "5.7.0", "Must issue a STARTTLS command first"); }

Reply relay_denied() { return r(554, "5.7.1", "Relay access denied"); }
Reply user_unknown() { return r(550, "5.1.1", "User unknown"); }
Reply too_many_recipients() { return r(452, "4.5.3", "Error: too many recipients"); }

Reply message_too_big() { return r(552, "5.3.4", "Message size exceeds fixed limit"); }
Reply header_too_big() { return r(552, "5.3.4", "Message header section too large"); }
Reply mail_loop() { return r(554, "5.4.6", "Too many Received headers: mail forwarding loop"); }

std::optional<Reply> data_verdict(const DataReport& d) {
    if (d.too_big) return message_too_big();
    if (d.bare_lf || d.bare_cr) return r(550, "5.6.0", "Message rejected: bare <CR> or <LF> in message data");
    if (d.nul) return r(550, "5.6.0", "Message rejected: NUL character in message data");
    if (d.line_too_long) return r(550, "5.6.0", "Message rejected: text line too long");
    if (d.loop()) return mail_loop();
    return std::nullopt;
}

Reply too_many_connections() { return r(421, "4.7.0", "Too many connections, try again later"); }
Reply timeout() { return r(421, "4.4.2", "Timeout exceeded"); }
Reply shutting_down() { return r(421, "4.3.2", "Service shutting down"); }
Reply author_rejected(std::string_view reason) { return r(550, "5.7.1", clean(reason)); }
Reply dmarc_rejected(std::string_view reason) { return r(550, "5.7.1", clean(reason)); }
Reply spf_rejected(std::string_view reason) { return r(550, "5.7.23", clean(reason)); }
Reply spoofing_rejected(std::string_view reason) { return r(550, "5.7.1", clean(reason)); }
Reply greylisted() { return r(451, "4.7.1", "Greylisted, try again later"); }
Reply dnsbl_listed(std::string_view zone) {
    return r(554, "5.7.1", "Service unavailable; client host blocked using " + clean(zone));
}
Reply local_error() { return r(451, "4.3.0", "Error: local error in processing"); }
Reply checks_busy() { return r(451, "4.3.2", "Too busy to check this message now, try again later"); }
Reply policy_temporary_failure(std::string_view reason) { return r(451, "4.7.0", clean(reason)); }

}  // namespace mxgate::smtp::replies
