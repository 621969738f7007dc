#include "relay/server/received_header.hpp"

#include <cstdio>

namespace mxgate::server {

namespace {
std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s) out += (c > 0x20 && c < 0x7f && c != '(' && c != ')') ? static_cast<char>(c) : '?';
    return out;
}
}  // namespace

std::string rfc5322_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string received_header(const ReceivedInfo& r) {
    // RFC 5321 §4.1.3 address literal: IPv6 addresses carry the "IPv6:" tag.
    const bool v6 = r.client_ip.find(':') != std::string::npos;
    std::string h = "Received: from " + printable(r.helo.empty() ? "unknown" : r.helo) + " ([" +
                    (v6 ? "IPv6:" : "") + printable(r.client_ip) + "])\r\n";
    if (!r.tls_version.empty()) {
        h += "\t(using " + printable(r.tls_version) + " with cipher " + printable(r.tls_cipher);
        if (r.tls_bits > 0) h += " (" + std::to_string(r.tls_bits) + " bits)";
        h += ")\r\n";
    } else {
        h += "\t(no TLS: received in plaintext)\r\n";
    }
    h += "\tby " + printable(r.by_host) + " (mxgate) with " + r.protocol + " id " + r.queue_id;
    if (!r.for_rcpt.empty()) h += "\r\n\tfor <" + printable(r.for_rcpt) + ">";
    h += "; " + rfc5322_date(r.when) + "\r\n";
    return h;
}

}  // namespace mxgate::server
