#include "relay/queue/mime_report.hpp"

#include <openssl/rand.h>

#include "relay/client/smtp_text.hpp"
#include "relay/spool/dsn_text.hpp"

namespace mxgate::queue {

namespace dt = spool::dsntext;

std::string random_hex(size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
        raw.assign(bytes, '\x5a');  // never fails in practice; uniqueness then rests on the date
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

namespace {

// A quoted-string parameter value: no quotes, backslashes or controls.
std::string param(const std::string& v) {
    std::string out;
    for (unsigned char c : v)
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out += static_cast<char>(c);
    return out;
}

std::string address_list(const std::vector<std::string>& to) {
    std::string out;
    for (const auto& a : to) out += (out.empty() ? "" : ", ") + dt::one_line(a, true);
    return out;
}

// Text as CRLF lines: each input line (LF or CRLF) wrapped on its own,
// other control characters dropped.
std::string text_lines(const std::string& text) {
    std::string out, line;
    auto flush = [&] {
        out += line.empty() ? std::string("\r\n") : dt::wrap(line);
        line.clear();
    };
    for (unsigned char c : text) {
        if (c == '\n') flush();
        else if (c == '\t' || c >= 0x20) line += static_cast<char>(c);
    }
    if (!line.empty()) flush();
    return out;
}

}  // namespace

std::string base64_lines(const std::string& bytes) {
    const std::string b64 = client::base64_encode(bytes);
    std::string out;
    for (size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
    return out;
}

std::string build_report_mime(const ReportMime& m) {
    const std::string boundary = "=_mxgate_" + random_hex(12);
    const bool text_8bit = !dt::is_ascii(m.text);
    std::string msg;
    msg += dt::field("From", dt::one_line(m.from, true));
    msg += dt::field("To", address_list(m.to));
    msg += dt::field("Subject", dt::one_line(m.subject, false));
    msg += dt::field("Date", dt::rfc5322_date(m.date));
    const std::string mid = m.message_id.empty()
                                ? std::to_string(m.date) + "." + random_hex(8) + "@" + dt::one_line(m.hostname, false)
                                : dt::one_line(m.message_id, false);
    msg += dt::field("Message-ID", "<" + mid + ">");
    msg += "MIME-Version: 1.0\r\n";
    if (m.kind == ReportMimeKind::tlsrpt) {
        msg += dt::field("TLS-Report-Domain", dt::one_line(m.tls_report_domain, false));
        msg += dt::field("TLS-Report-Submitter", dt::one_line(m.tls_report_submitter, false));
        msg += "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"" + boundary + "\"\r\n";
    } else {
        msg += "Content-Type: multipart/mixed;\r\n\tboundary=\"" + boundary + "\"\r\n";
    }
    msg += "\r\nThis is a multi-part message in MIME format.\r\n";

    msg += "\r\n--" + boundary + "\r\n";
    msg += std::string("Content-Type: text/plain; charset=") + (text_8bit ? "utf-8" : "us-ascii") + "\r\n";
    msg += std::string("Content-Transfer-Encoding: ") + (text_8bit ? "8bit" : "7bit") + "\r\n\r\n";
    msg += text_lines(m.text);

    const std::string name = param(m.attachment_name);
    msg += "\r\n--" + boundary + "\r\n";
    msg += "Content-Type: " + param(m.attachment_type) + "\r\n";
    msg += "Content-Transfer-Encoding: base64\r\n";
    msg += "Content-Disposition: attachment;\r\n\tfilename=\"" + name + "\"\r\n\r\n";
    msg += base64_lines(m.attachment);
    msg += "\r\n--" + boundary + "--\r\n";
    return msg;
}

}  // namespace mxgate::queue
