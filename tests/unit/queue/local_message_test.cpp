#include <catch2/catch.hpp>

#include "relay/core/event_sink.hpp"
#include "relay/queue/local_message.hpp"
#include "relay/queue/mime_report.hpp"
#include "relay/spool/spool.hpp"

using namespace mxgate;

TEST_CASE("queue_local_message commits the message with its envelope") {
    auto sp = spool::make_memory_spool();
    core::CaptureSink ev;
    const std::string bytes = "From: a@b\r\nTo: c@d\r\n\r\nhi\r\n";
    auto id = queue::queue_local_message(*sp, "tlsrpt@mx.example.org", {"r1@example.com", "r2@example.net"}, bytes, ev);
    REQUIRE(id);
    auto m = sp->load(*id);
    REQUIRE(m);
    CHECK(m->envelope.sender == "tlsrpt@mx.example.org");
    REQUIRE(m->envelope.recipients.size() == 2);
    CHECK(m->envelope.recipients[1].address == "r2@example.net");
    CHECK(m->envelope.recipients[0].state == spool::RcptState::pending);
    CHECK(m->envelope.listener == "local");
    CHECK_FALSE(m->envelope.body_8bit);
    CHECK(m->envelope.size == bytes.size());
    std::string body;
    REQUIRE(sp->read_body(*id, body));
    CHECK(body == bytes);
    CHECK(ev.events().empty());

    auto id8 = queue::queue_local_message(*sp, "", {"x@y"}, "Subject: \xc3\xa9\r\n\r\n", ev);
    REQUIRE(id8);
    CHECK(sp->load(*id8)->envelope.body_8bit);
}

TEST_CASE("queue_local_message without recipients is refused and logged") {
    auto sp = spool::make_memory_spool();
    core::CaptureSink ev;
    CHECK_FALSE(queue::queue_local_message(*sp, "a@b", {}, "x\r\n", ev));
    REQUIRE(ev.named("queue.write_failed").size() == 1);
    CHECK(ev.named("queue.write_failed")[0].str(core::Field::reason) == "local");
    CHECK(sp->list(false).empty());
}

namespace {
std::string header(const std::string& msg, const std::string& name) {
    const std::string hs = msg.substr(0, msg.find("\r\n\r\n") + 2);
    size_t p = hs.find("\r\n" + name + ": ");
    if (hs.rfind(name + ": ", 0) == 0) p = 0;
    else if (p == std::string::npos) return "";
    else p += 2;
    p += name.size() + 2;
    std::string v;
    while (true) {  // unfold
        size_t e = hs.find("\r\n", p);
        v += hs.substr(p, e - p);
        p = e + 2;
        if (p >= hs.size() || (hs[p] != ' ' && hs[p] != '\t')) break;
    }
    return v;
}
}  // namespace

TEST_CASE("tlsrpt report MIME: multipart/report with the RFC 8460 header fields") {
    queue::ReportMime m;
    m.kind = queue::ReportMimeKind::tlsrpt;
    m.from = "tlsrpt@mx.example.org";
    m.to = {"reports@example.com"};
    m.subject = "Report Domain: example.com Submitter: example.org Report-ID: <x@y>";
    m.date = 1700000000;
    m.hostname = "mx.example.org";
    m.text = "This is an aggregate TLS report.\nSecond line.";
    std::string att;
    for (int i = 0; i < 300; ++i) att += static_cast<char>(i & 0xff);
    m.attachment = att;
    m.attachment_type = "application/tlsrpt+gzip";
    m.attachment_name = "example.org!example.com!1700000000!1700086399!abc.json.gz";
    m.tls_report_domain = "example.com";
    m.tls_report_submitter = "example.org";
    const std::string msg = queue::build_report_mime(m);

    CHECK(header(msg, "From") == "tlsrpt@mx.example.org");
    CHECK(header(msg, "To") == "reports@example.com");
    CHECK(header(msg, "Date") == "Tue, 14 Nov 2023 22:13:20 +0000");
    CHECK(header(msg, "MIME-Version") == "1.0");
    CHECK(header(msg, "TLS-Report-Domain") == "example.com");
    CHECK(header(msg, "TLS-Report-Submitter") == "example.org");
    CHECK(header(msg, "Subject") == m.subject);
    const std::string mid = header(msg, "Message-ID");
    CHECK(mid.front() == '<');
    CHECK(mid.find("@mx.example.org>") != std::string::npos);
    const std::string ct = header(msg, "Content-Type");
    CHECK(ct.rfind("multipart/report; report-type=\"tlsrpt\";", 0) == 0);
    const size_t b = ct.find("boundary=\"");
    REQUIRE(b != std::string::npos);
    const std::string boundary = ct.substr(b + 10, ct.find('"', b + 10) - b - 10);
    // Two parts and a closing delimiter.
    size_t parts = 0;
    for (size_t p = msg.find("\r\n--" + boundary + "\r\n"); p != std::string::npos;
         p = msg.find("\r\n--" + boundary + "\r\n", p + 1))
        ++parts;
    CHECK(parts == 2);
    CHECK(msg.find("\r\n--" + boundary + "--\r\n") != std::string::npos);
    CHECK(msg.find("Content-Type: application/tlsrpt+gzip\r\n") != std::string::npos);
    CHECK(msg.find("filename=\"example.org!example.com!1700000000!1700086399!abc.json.gz\"") != std::string::npos);
    CHECK(msg.find("Second line.\r\n") != std::string::npos);
    // Every line is CRLF-terminated, 7-bit, at most 78 characters.
    size_t start = 0;
    while (start < msg.size()) {
        size_t e = msg.find("\r\n", start);
        REQUIRE(e != std::string::npos);
        CHECK(e - start <= 78);
        for (size_t i = start; i < e; ++i) CHECK(static_cast<unsigned char>(msg[i]) < 0x80);
        start = e + 2;
    }
    // The attachment decodes back: base64 of the bytes, in 76-char lines.
    CHECK(msg.find(queue::base64_lines(att)) != std::string::npos);
}

TEST_CASE("mixed report MIME and hostile header text") {
    queue::ReportMime m;
    m.from = "dmarc@example.org";
    m.to = {"a@example.com", "b@example.com"};
    m.subject = "Report\r\nBcc: evil@example.net";
    m.date = 0;
    m.hostname = "h";
    m.attachment_type = "application/gzip";
    m.attachment_name = "x\"y.xml.gz";
    const std::string msg = queue::build_report_mime(m);
    CHECK(header(msg, "Content-Type").rfind("multipart/mixed;", 0) == 0);
    CHECK(header(msg, "To") == "a@example.com, b@example.com");
    CHECK(header(msg, "TLS-Report-Domain").empty());
    CHECK(msg.find("\r\nBcc:") == std::string::npos);
    CHECK(msg.find("filename=\"xy.xml.gz\"") != std::string::npos);
}
