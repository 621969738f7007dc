// relay/spool/dsn.cpp — builds DSN messages (see dsn.hpp for the shape and
// the RFCs). Assembly only; text handling lives in dsn_text.cpp.
#include "relay/spool/dsn.hpp"

#include <cctype>

#include "relay/spool/dsn_text.hpp"

namespace mxgate::spool {

using namespace dsntext;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// RFC 3464 §2.3.2 / RFC 6533 §3: address-type; address.
std::string typed_address(std::string_view addr, bool utf8) {
    return std::string(utf8 && !is_ascii(addr) ? "utf-8; " : "rfc822; ") + one_line(addr, utf8);
}

// ORCPT is "addr-type;xtext" as the client sent it (RFC 3461 §4.2); keep
// its type, add the space RFC 3464 examples use.
std::string original_recipient(std::string_view orcpt, bool utf8) {
    std::string v = one_line(orcpt, utf8);
    size_t semi = v.find(';');
    if (semi == std::string::npos || semi == 0) return "rfc822; " + v;
    size_t start = semi + 1;
    while (start < v.size() && v[start] == ' ') ++start;
    return v.substr(0, semi) + "; " + v.substr(start);
}

std::string boundary_for(const Envelope& env, int64_t now, std::string_view content) {
    std::string b = "=_mxgate_" + std::to_string(now) + "_" + (env.id.empty() ? "0" : env.id);
    // RFC 2046 §5.1.1: the boundary must not occur in the enclosed parts.
    for (int n = 0; content.find("--" + b) != std::string_view::npos; ++n) b += "_" + std::to_string(n);
    return b;
}

std::string human_text(const Envelope& env, const DsnRequest& req, bool utf8) {
    std::string t;
    t += "This is the mail system at host " + one_line(req.reporting_mta, false) + ".\r\n\r\n";
    if (req.kind == DsnKind::failure) {
        t += "I'm sorry to have to inform you that your message could not\r\n"
             "be delivered to one or more recipients. It's attached below.\r\n";
    } else if (req.kind == DsnKind::delivered) {
        t += "Your message was successfully delivered to the destination(s)\r\n"
             "listed below.\r\n";
    } else if (req.kind == DsnKind::relayed) {
        t += "Your message was successfully relayed to the destination(s)\r\n"
             "listed below. The next mail system does not send delivery\r\n"
             "notifications, so you may receive no further notice about them.\r\n";
    } else {
        t += "Your message could not be delivered yet to one or more\r\n"
             "recipients. The mail system will keep trying";
        t += req.retry_until ? " until\r\n" + rfc5322_date(req.retry_until) + ".\r\n" : ".\r\n";
        t += "You do not need to send the message again.\r\n";
    }
    t += "\r\nFor further assistance, please send mail to postmaster.\r\n";
    for (const DsnRecipient& r : req.recipients) {
        std::string why = one_line(r.reply, false);
        if (!r.remote_mta.empty()) why = "host " + one_line(r.remote_mta, false) + " said: " + why;
        // Remote text is long and unbounded: wrap it (fuzzing found a
        // 3000-octet reply making a body line over the 998 limit).
        t += "\r\n" + wrap("<" + one_line(r.address, utf8) + ">: " + (why.empty() ? "(no reason recorded)" : why));
    }
    return t;
}

// RFC 3464 §2.3.3 action-value.
const char* action_name(DsnKind k) {
    switch (k) {
        case DsnKind::failure: return "failed";
        case DsnKind::delay: return "delayed";
        case DsnKind::relayed: return "relayed";
        case DsnKind::delivered: return "delivered";
    }
    return "failed";
}

const char* subject_for(DsnKind k) {
    switch (k) {
        case DsnKind::failure: return "Undelivered Mail Returned to Sender";
        case DsnKind::delay: return "Delayed Mail (still being retried)";
        case DsnKind::relayed:
        case DsnKind::delivered: return "Successful Mail Delivery Report";
    }
    return "Undelivered Mail Returned to Sender";
}

std::string status_fields(const Envelope& env, const DsnRequest& req, bool utf8) {
    std::string s;
    // Per-message fields, RFC 3464 §2.2.
    s += field("Reporting-MTA", "dns; " + one_line(req.reporting_mta, false));
    if (!env.envid.empty()) s += field("Original-Envelope-Id", one_line(env.envid, utf8));
    if (env.arrival != 0) s += field("Arrival-Date", rfc5322_date(env.arrival));
    // Per-recipient fields, RFC 3464 §2.3; each group after a blank line.
    for (const DsnRecipient& r : req.recipients) {
        s += "\r\n";
        s += field("Final-Recipient", typed_address(r.address, utf8));
        if (!r.orcpt.empty()) s += field("Original-Recipient", original_recipient(r.orcpt, utf8));
        s += field("Action", action_name(req.kind));
        s += field("Status", dsn_status(r, req.kind));
        if (!r.remote_mta.empty()) s += field("Remote-MTA", "dns; " + one_line(r.remote_mta, false));
        std::string reply = one_line(r.reply, false);
        if (!reply.empty())  // §2.3.6: smtp; for a remote reply, ours otherwise
            s += field("Diagnostic-Code", (reply_code(reply) ? "smtp; " : "X-mxgate; ") + reply);
        if (r.last_attempt != 0) s += field("Last-Attempt-Date", rfc5322_date(r.last_attempt));
        if (req.kind == DsnKind::delay && req.retry_until != 0)
            s += field("Will-Retry-Until", rfc5322_date(req.retry_until));
    }
    return s;
}

}  // namespace

bool should_bounce(const Envelope& env) {
    if (env.sender.empty()) return false;  // null sender <>: never bounce a bounce
    std::string_view local = env.sender;
    size_t at = local.rfind('@');
    if (at != std::string_view::npos) local = local.substr(0, at);
    return !iequals(local, "MAILER-DAEMON");
}

bool dsn_returns_full_message(const Envelope& env, DsnKind kind) {
    // RFC 3461 §4.3: RET=FULL asks for the message, RET=HDRS (or none,
    // our choice) for headers only. Delay warnings never carry the body.
    // RFC 8689 §5: a REQUIRETLS message is returned as if RET=HDRS.
    return kind == DsnKind::failure && iequals(env.ret, "FULL") && !env.requiretls;
}

std::string dsn_status(const DsnRecipient& r, DsnKind kind) {
    if (!r.status.empty()) return one_line(r.status, false);
    std::string st = reply_status(r.reply);
    if (!st.empty()) return st;
    int code = reply_code(r.reply);
    if (code >= 500) return "5.0.0";
    if (code >= 400) return "4.0.0";
    if (kind == DsnKind::relayed || kind == DsnKind::delivered) return "2.0.0";
    return kind == DsnKind::failure ? "5.0.0" : "4.0.0";
}

Dsn make_dsn(const Envelope& env, const DsnRequest& req) {
    const bool utf8 = env.smtputf8;
    // Like Postfix's bounce_size_limit: a large message comes back as its
    // header section only, so RET=FULL cannot turn a bounce into a 50 MB mail.
    const bool full = dsn_returns_full_message(env, req.kind) && req.original.size() <= kDsnFullMessageLimit;
    std::string_view returned = full ? req.original : header_section(req.original);
    const std::string host = one_line(req.reporting_mta, false);
    const std::string text = human_text(env, req, utf8);
    const std::string status = status_fields(env, req, utf8);
    // Remote reply text is in all three parts: check the boundary against all.
    const std::string boundary = boundary_for(env, req.now, text + status + std::string(returned));

    Dsn out;
    out.smtputf8 = utf8 && !(is_ascii(env.sender) && is_ascii(returned) && is_ascii(text));
    out.body_8bit = !is_ascii(returned) || !is_ascii(text);

    std::string& m = out.message;
    m += "From: Mail Delivery System <MAILER-DAEMON@" + host + ">\r\n";
    m += field("To", "<" + one_line(env.sender, utf8) + ">");
    m += std::string("Subject: ") + subject_for(req.kind) + "\r\n";
    m += "Date: " + rfc5322_date(req.now) + "\r\n";
    m += "Message-ID: <" + std::to_string(req.now) + "." + (env.id.empty() ? "0" : one_line(env.id, false)) +
         "." + action_name(req.kind) + "@" + host + ">\r\n";
    m += "Auto-Submitted: auto-replied\r\n";  // RFC 3834 §5; RFC 3464 §2
    m += "MIME-Version: 1.0\r\n";
    m += "Content-Type: multipart/report; report-type=" +
         std::string(utf8 ? "global-delivery-status" : "delivery-status") + ";\r\n\tboundary=\"" + boundary +
         "\"\r\n";
    m += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";

    m += "--" + boundary + "\r\n";
    m += "Content-Description: Notification\r\n";
    m += is_ascii(text) ? "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
                        : "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
    m += text + "\r\n";

    m += "--" + boundary + "\r\n";
    m += "Content-Description: Delivery report\r\n";
    m += utf8 ? "Content-Type: message/global-delivery-status\r\n\r\n"
              : "Content-Type: message/delivery-status\r\n\r\n";
    m += status + "\r\n";

    m += "--" + boundary + "\r\n";
    if (full) {
        m += "Content-Description: Undelivered Message\r\n";
        m += utf8 ? "Content-Type: message/global\r\n" : "Content-Type: message/rfc822\r\n";
        if (!is_ascii(returned)) m += "Content-Transfer-Encoding: 8bit\r\n";
    } else {
        m += req.kind == DsnKind::failure ? "Content-Description: Undelivered Message Headers\r\n"
             : req.kind == DsnKind::delay ? "Content-Description: Delayed Message Headers\r\n"
                                          : "Content-Description: Message Headers\r\n";
        // RFC 6522 §4 text/rfc822-headers; RFC 6533 §6.3 message/global-headers.
        m += utf8 ? "Content-Type: message/global-headers\r\n" : "Content-Type: text/rfc822-headers\r\n";
        if (!is_ascii(returned)) m += "Content-Transfer-Encoding: 8bit\r\n";
    }
    m += "\r\n";
    m.append(returned);
    if (!returned.empty() && returned.substr(returned.size() >= 2 ? returned.size() - 2 : 0) != "\r\n") m += "\r\n";
    m += "\r\n--" + boundary + "--\r\n";
    return out;
}

}  // namespace mxgate::spool
