// relay/client/probe_plaintext.cpp — what a server does before TLS and at
// its edges: STARTTLS offered, AUTH advertised or accepted in cleartext,
// plaintext pipelined behind STARTTLS executed after the handshake (RFC 3207
// §4.2, CVE-2011-0411 and its 2021 relatives), bare-LF end of data (SMTP
// smuggling, only with an explicit recipient).
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "relay/client/probe_impl.hpp"

namespace mxgate::client::probe {

namespace asio = boost::asio;

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
    return out;
}

}  // namespace

asio::awaitable<bool> Prober::check_plaintext() {
    std::string error;
    auto op = open_plain(error);
    std::unique_ptr<SmtpSession> s = co_await std::move(op);
    if (!s) {
        add("connect", "server reachable and greets", Status::fail, error);
        co_return false;
    }
    add("connect", "server reachable and greets", Status::pass, "EHLO answered by " + out_.target);

    if (opts_.implicit_tls) {
        // 465: TLS before the first byte; nothing is ever said in cleartext.
        starttls_ = true;
        add("starttls.offered", "TLS required from the first byte (implicit TLS)", Status::pass,
            "handshake completed before the greeting");
        co_await close(s);
        co_return true;
    }

    starttls_ = s->caps().starttls;
    add("starttls.offered", "STARTTLS offered", starttls_ ? Status::pass : Status::fail,
        starttls_ ? "EHLO lists STARTTLS" : "EHLO does not list STARTTLS: every message travels in cleartext");

    // AUTH before TLS: advertised?
    const auto& mechs = s->caps().auth;
    add("auth.advertised_plaintext", "AUTH not advertised before TLS",
        mechs.empty() ? Status::pass : Status::fail,
        mechs.empty() ? "EHLO before TLS lists no AUTH"
                      : "EHLO before TLS lists AUTH " + join(mechs) + ": clients may send passwords in cleartext");

    // ... and accepted? Ask with a bare mechanism name; a 334 means the
    // server would read credentials now. Nothing secret is ever sent: the
    // exchange is cancelled with "*" (RFC 4954 §4).
    // PLAIN/LOGIN first: the mechanisms that carry the password itself.
    std::string mech = mechs.empty() ? "PLAIN" : mechs.front();
    if (s->caps().has_auth("LOGIN")) mech = "LOGIN";
    if (s->caps().has_auth("PLAIN")) mech = "PLAIN";
    core::Reply r;
    const std::string auth_line = "AUTH " + mech + "\r\n";
    const bool answered = co_await s->command(auth_line, opts_.timeouts.command, r);
    if (!answered) {
        add("auth.accepted_plaintext", "AUTH refused before TLS", Status::warn,
            "no answer to AUTH " + mech + ": " + s->error());
        co_await close(s);
        co_return true;
    }
    if (r.code == 334 || r.code == 235) {
        add("auth.accepted_plaintext", "AUTH refused before TLS", Status::fail,
            "AUTH " + mech + " before TLS answered " + reply_text(r) + ": the server reads credentials in cleartext");
        if (r.code == 334) {
            core::Reply ignored;
            co_await s->command("*\r\n", opts_.timeouts.command, ignored);
        }
    } else {
        add("auth.accepted_plaintext", "AUTH refused before TLS", Status::pass,
            "AUTH " + mech + " before TLS answered " + reply_text(r));
    }
    co_await close(s);
    co_return true;
}

asio::awaitable<void> Prober::check_injection() {
    const char* title = "plaintext after STARTTLS discarded (no command injection)";
    std::string error;
    auto op = open_plain(error);
    std::unique_ptr<SmtpSession> s = co_await std::move(op);
    if (!s) {
        add("starttls.injection", title, Status::skip, error);
        co_return;
    }
    // One write, one packet in practice: the NOOP must never be executed
    // inside the TLS session (RFC 3207 §4.2).
    const bool sent = co_await s->send("STARTTLS\r\nNOOP\r\n", opts_.timeouts.command);
    core::Reply r;
    bool got = false;
    if (sent) got = co_await s->read_reply(r, opts_.timeouts.command);
    if (!got || r.code != 220) {
        add("starttls.injection", title, Status::skip,
            got ? "STARTTLS answered " + reply_text(r) : s->error());
        co_await close(s);
        co_return;
    }
    // A reply to the NOOP already here, in plaintext, means the server
    // answered it before TLS: not an injection, but say so.
    const bool early = !s->stream().buffered().empty();
    std::string e;
    auto ctx = make_context(TLS1_VERSION, 0, "ALL", e);
    bool hs = false;
    if (ctx) hs = co_await s->handshake(*ctx, sni_);
    if (!hs) {
        add("starttls.injection", title, Status::skip, "handshake failed: " + (ctx ? s->error() : e));
        s->abort();
        co_return;
    }
    core::Reply late;
    auto wait = std::chrono::duration_cast<Duration>(opts_.injection_wait);
    const bool injected = co_await s->read_reply(late, wait);
    const auto seconds = std::to_string(opts_.injection_wait.count() / 1000.0).substr(0, 3);
    if (injected) {
        add("starttls.injection", title, Status::fail,
            "\"NOOP\" sent in the same packet as STARTTLS was answered inside TLS: " + reply_text(late));
    } else if (s->error().find("timeout") != std::string::npos) {
        add("starttls.injection", title, Status::pass,
            std::string("no reply inside TLS to the pipelined NOOP within ") + seconds + "s" +
                (early ? " (it was answered in plaintext before the handshake)" : ""));
    } else {
        add("starttls.injection", title, Status::pass,
            "the server ended the session instead of executing the pipelined NOOP: " + s->error());
    }
    s->abort();
}

asio::awaitable<void> Prober::check_smuggling() {
    // Three endings a lenient server might take for the end of data; each
    // in its own transaction. The client waits after the fake ending: a
    // reply then means the server ended the message there (smuggling).
    struct Variant {
        const char* id;
        const char* wire;
        const char* shown;
    };
    static constexpr Variant kVariants[] = {
        {"lf", "\n.\n", "<LF>.<LF>"},
        {"lf_crlf", "\n.\r\n", "<LF>.<CR><LF>"},
        {"crlf_lf", "\r\n.\n", "<CR><LF>.<LF>"},
    };
    const std::string rcpt = *opts_.smuggling_rcpt;
    for (const auto& v : kVariants) {
        const std::string id = std::string("smuggling.") + v.id;
        const std::string title = std::string("end of data only at CRLF.CRLF (") + v.shown + " is not an end)";
        std::string error;
        auto op = open_plain(error);
        std::unique_ptr<SmtpSession> s = co_await std::move(op);
        if (!s) {
            add(id, title, Status::skip, error);
            continue;
        }
        core::Reply r;
        const std::string mail = "MAIL FROM:<" + opts_.smuggling_sender + ">\r\n";
        const std::string rcpt_line = "RCPT TO:<" + rcpt + ">\r\n";
        bool ok = co_await s->command(mail, opts_.timeouts.command, r);
        ok = ok && r.code == 250;
        if (ok) {
            ok = co_await s->command(rcpt_line, opts_.timeouts.command, r);
            ok = ok && r.code >= 250 && r.code < 260;
        }
        if (ok) {
            ok = co_await s->command("DATA\r\n", opts_.timeouts.command, r);
            ok = ok && r.code == 354;
        }
        if (!ok) {
            add(id, title, Status::skip, "transaction refused: " + (s->usable() ? reply_text(r) : s->error()));
            co_await close(s);
            continue;
        }
        const std::string body = std::string("Subject: mxgate probe bare-LF test\r\n\r\nmxgate probe: ") +
                                 v.shown + " follows" + v.wire + "after the fake end";
        const bool sent = co_await s->send(body, opts_.timeouts.command);
        core::Reply early;
        auto wait = std::chrono::duration_cast<Duration>(opts_.injection_wait);
        bool ended = false;
        if (sent) ended = co_await s->read_reply(early, wait);
        if (ended && early.code >= 400) {
            // A refusal right at the bare LF. Postfix's
            // smtpd_forbid_bare_newline answers 5xx and disconnects: nothing
            // after it is read, so nothing can be smuggled. A server that
            // refuses but stays connected has ended the data there and will
            // read what follows as commands: that is the exposure.
            core::Reply after;
            const auto grace = std::chrono::duration_cast<Duration>(std::chrono::seconds(2));
            const bool more = co_await s->read_reply(after, grace);
            const bool closed = !more && s->error().find("timeout") == std::string::npos;
            if (closed)
                add(id, title, Status::pass, std::string("the server refused the bare line ending after ") + v.shown +
                                                 " with " + reply_text(early) + " and closed the connection");
            else
                add(id, title, Status::fail, std::string("the server ended the data at ") + v.shown + " (" +
                                                 reply_text(early) +
                                                 ") and kept the connection: what follows would be read as "
                                                 "commands (SMTP smuggling exposure)");
            s->abort();
            continue;
        }
        if (ended) {
            add(id, title, Status::fail, std::string("the server answered after ") + v.shown + ": " +
                                             reply_text(early) + " (SMTP smuggling exposure)");
            s->abort();
            continue;
        }
        if (s->error().find("timeout") == std::string::npos) {
            add(id, title, Status::skip, s->error());
            s->abort();
            continue;
        }
        // It waited, as it should. Finish and see what it thinks of the body:
        // a bare LF inside accepted is only a warning (a later hop may differ).
        s->abort();
        add(id, title, Status::pass, std::string("no reply after ") + v.shown + "; the server waited for CRLF.CRLF");
    }
}

}  // namespace mxgate::client::probe
