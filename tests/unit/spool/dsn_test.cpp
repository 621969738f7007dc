// tests/unit/spool/dsn_test.cpp — DSN messages parsed back: headers, the
// three MIME parts, per-recipient status fields, RET handling, SMTPUTF8,
// sanitising of remote text, and should_bounce().
#include <catch2/catch.hpp>
#include <map>

#include "relay/spool/dsn.hpp"
#include "spool_test_util.hpp"

using namespace mxgate::spool;

namespace {

const std::string kOriginal =
    "Received: from mail.example.net by mx.example.org\r\n"
    "From: Alice <alice@example.net>\r\n"
    "To: bob@example.org\r\n"
    "Subject: lunch\r\n"
    "\r\n"
    "See you at noon.\r\n"
    "SECRET-BODY-LINE\r\n";

struct Part {
    std::map<std::string, std::string> headers;  // lower-case name → unfolded value
    std::string body;
};

// Splits "Name: value" lines (with folding) up to the first empty line.
std::map<std::string, std::string> parse_headers(const std::string& block, std::string* rest) {
    std::map<std::string, std::string> h;
    size_t pos = 0;
    std::string last;
    while (pos < block.size()) {
        size_t eol = block.find("\r\n", pos);
        REQUIRE(eol != std::string::npos);
        std::string line = block.substr(pos, eol - pos);
        pos = eol + 2;
        if (line.empty()) break;
        REQUIRE(line.size() <= 998);
        if (line[0] == ' ' || line[0] == '\t') {
            REQUIRE(!last.empty());
            h[last] += line;
            continue;
        }
        size_t colon = line.find(':');
        REQUIRE(colon != std::string::npos);
        last = line.substr(0, colon);
        for (auto& c : last) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        REQUIRE(h.count(last) == 0);  // no duplicated fields
        h[last] = line.substr(colon + 2);
    }
    if (rest) *rest = block.substr(pos);
    return h;
}

// Per-recipient groups of a delivery-status body (blank-line separated).
std::vector<std::map<std::string, std::string>> status_groups(const std::string& body) {
    std::vector<std::map<std::string, std::string>> groups;
    std::string rest = body;
    while (!rest.empty() && rest != "\r\n") {
        std::string next;
        groups.push_back(parse_headers(rest, &next));
        rest = next;
    }
    return groups;
}

struct Parsed {
    std::map<std::string, std::string> headers;
    std::vector<Part> parts;
};

Parsed parse(const std::string& msg) {
    // Every line ends in CRLF (no bare CR or LF) and has at most 998
    // octets (RFC 5322 §2.1.1), body parts included.
    size_t line = 0;
    for (size_t i = 0; i < msg.size(); ++i) {
        if (msg[i] == '\n') REQUIRE((i > 0 && msg[i - 1] == '\r'));
        if (msg[i] == '\r') REQUIRE((i + 1 < msg.size() && msg[i + 1] == '\n'));
        line = msg[i] == '\n' ? 0 : line + 1;
        REQUIRE(line <= 999);  // 998 + CR
    }
    Parsed p;
    std::string body;
    p.headers = parse_headers(msg, &body);
    const std::string& ct = p.headers["content-type"];
    size_t b = ct.find("boundary=\"");
    REQUIRE(b != std::string::npos);
    std::string boundary = ct.substr(b + 10, ct.find('"', b + 10) - b - 10);
    std::string delim = "--" + boundary;
    size_t pos = body.find(delim + "\r\n");
    REQUIRE(pos != std::string::npos);
    pos += delim.size() + 2;
    for (;;) {
        size_t next = body.find("\r\n" + delim, pos);
        REQUIRE(next != std::string::npos);
        Part part;
        // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
        std::string block = body.substr(pos, next - pos);
        if (block.find("\r\n\r\n") == std::string::npos) block += "\r\n";  // part with empty body
        part.headers = parse_headers(block, &part.body);
        p.parts.push_back(part);
        pos = next + 2 + delim.size();
        if (body.compare(pos, 4, "--\r\n") == 0) {
            REQUIRE(pos + 4 == body.size());  // nothing after the close delimiter
            break;
        }
        REQUIRE(body.compare(pos, 2, "\r\n") == 0);
        pos += 2;
    }
    return p;
}

Envelope bounced_envelope() {
    Envelope e = spooltest::sample_envelope(2);
    e.id = "018BCFE1D0A8C3F2A9B1";
    e.smtputf8 = false;
    return e;
}

DsnRequest failure_request() {
    DsnRequest r;
    r.kind = DsnKind::failure;
    r.reporting_mta = "mx.example.org";
    r.now = 1700086400;
    r.original = kOriginal;
    DsnRecipient a;
    a.address = "user0@example.org";
    a.orcpt = "rfc822;user0@example.org";
    a.reply = "550 5.1.1 <user0@example.org>: Recipient address rejected";
    a.remote_mta = "home.example.org";
    a.last_attempt = 1700086000;
    DsnRecipient b;
    b.address = "user1@example.org";
    b.reply = "connect to home.example.org[192.0.2.9]:25: Connection timed out";
    b.status = "4.4.1";
    r.recipients = {a, b};
    return r;
}

}  // namespace

TEST_CASE("dsn: failure report structure and per-recipient fields", "[dsn]") {
    Envelope env = bounced_envelope();
    Dsn d = make_dsn(env, failure_request());
    Parsed p = parse(d.message);
    CHECK(p.headers["from"] == "Mail Delivery System <MAILER-DAEMON@mx.example.org>");
    CHECK(p.headers["to"] == "<alice@example.net>");
    CHECK(p.headers["auto-submitted"] == "auto-replied");
    CHECK(p.headers["mime-version"] == "1.0");
    CHECK(p.headers["date"] == "Wed, 15 Nov 2023 22:13:20 +0000");
    CHECK(p.headers["subject"] == "Undelivered Mail Returned to Sender");
    CHECK(p.headers["message-id"].find("@mx.example.org>") != std::string::npos);
    CHECK(p.headers["content-type"].rfind("multipart/report; report-type=delivery-status;", 0) == 0);
    REQUIRE(p.parts.size() == 3);

    CHECK(p.parts[0].headers["content-type"] == "text/plain; charset=us-ascii");
    CHECK(p.parts[0].body.find("<user0@example.org>: host home.example.org said: 550 5.1.1") != std::string::npos);

    CHECK(p.parts[1].headers["content-type"] == "message/delivery-status");
    auto groups = status_groups(p.parts[1].body);
    REQUIRE(groups.size() == 3);
    CHECK(groups[0]["reporting-mta"] == "dns; mx.example.org");
    CHECK(groups[0]["original-envelope-id"] == "QQ314159");
    CHECK(groups[0]["arrival-date"] == "Tue, 14 Nov 2023 22:13:20 +0000");
    CHECK(groups[1]["final-recipient"] == "rfc822; user0@example.org");
    CHECK(groups[1]["original-recipient"] == "rfc822; user0@example.org");
    CHECK(groups[1]["action"] == "failed");
    CHECK(groups[1]["status"] == "5.1.1");
    CHECK(groups[1]["remote-mta"] == "dns; home.example.org");
    CHECK(groups[1]["diagnostic-code"] == "smtp; 550 5.1.1 <user0@example.org>: Recipient address rejected");
    CHECK(groups[1]["last-attempt-date"] == "Wed, 15 Nov 2023 22:06:40 +0000");
    CHECK(groups[2]["final-recipient"] == "rfc822; user1@example.org");
    CHECK(groups[2].count("original-recipient") == 0);
    CHECK(groups[2].count("remote-mta") == 0);
    CHECK(groups[2]["status"] == "4.4.1");
    CHECK(groups[2]["diagnostic-code"].rfind("X-mxgate; connect to", 0) == 0);
    CHECK(groups[2].count("will-retry-until") == 0);

    // RET=HDRS: the header section only, never the body.
    CHECK(p.parts[2].headers["content-type"] == "text/rfc822-headers");
    CHECK(p.parts[2].body == "Received: from mail.example.net by mx.example.org\r\nFrom: Alice "
                             "<alice@example.net>\r\nTo: bob@example.org\r\nSubject: lunch\r\n");
    CHECK(d.message.find("SECRET-BODY-LINE") == std::string::npos);
    CHECK_FALSE(d.body_8bit);
    CHECK_FALSE(d.smtputf8);
}

TEST_CASE("dsn: RET=FULL returns the whole message; absent RET returns headers", "[dsn]") {
    Envelope env = bounced_envelope();
    env.ret = "full";  // keyword values are case-insensitive
    CHECK(dsn_returns_full_message(env, DsnKind::failure));
    CHECK_FALSE(dsn_returns_full_message(env, DsnKind::delay));
    Parsed p = parse(make_dsn(env, failure_request()).message);
    REQUIRE(p.parts.size() == 3);
    CHECK(p.parts[2].headers["content-type"] == "message/rfc822");
    CHECK(p.parts[2].body == kOriginal);

    env.ret = "";
    CHECK_FALSE(dsn_returns_full_message(env, DsnKind::failure));
    Parsed h = parse(make_dsn(env, failure_request()).message);
    CHECK(h.parts[2].headers["content-type"] == "text/rfc822-headers");
}

TEST_CASE("dsn: delay warning", "[dsn]") {
    Envelope env = bounced_envelope();
    env.ret = "FULL";
    DsnRequest r = failure_request();
    r.kind = DsnKind::delay;
    r.retry_until = 1700432000;
    r.recipients[0].reply = "451 4.3.0 Temporary lookup failure";
    r.recipients[1].status = "";
    r.recipients[1].reply = "connection refused";
    Parsed p = parse(make_dsn(env, r).message);
    CHECK(p.headers["subject"] == "Delayed Mail (still being retried)");
    auto groups = status_groups(p.parts[1].body);
    REQUIRE(groups.size() == 3);
    CHECK(groups[1]["action"] == "delayed");
    CHECK(groups[1]["status"] == "4.3.0");
    CHECK(groups[1]["will-retry-until"] == "Sun, 19 Nov 2023 22:13:20 +0000");
    CHECK(groups[2]["status"] == "4.0.0");
    CHECK(p.parts[2].headers["content-type"] == "text/rfc822-headers");  // never the body
    CHECK(p.parts[0].body.find("will keep trying") != std::string::npos);
}

TEST_CASE("dsn: status derived from the reply", "[dsn]") {
    auto st = [](std::string reply, DsnKind k = DsnKind::failure) {
        DsnRecipient r;
        r.reply = reply;
        return dsn_status(r, k);
    };
    CHECK(st("550 5.7.1 relaying denied") == "5.7.1");
    CHECK(st("550-5.2.2 mailbox full\r\n550 5.2.2 really") == "5.2.2");
    CHECK(st("552 5.3.4") == "5.3.4");
    CHECK(st("554 transaction failed") == "5.0.0");
    CHECK(st("550 4.1.1 class mismatch") == "5.0.0");  // RFC 3463: class must match
    CHECK(st("450 mailbox busy", DsnKind::delay) == "4.0.0");
    CHECK(st("no reply at all") == "5.0.0");
    CHECK(st("", DsnKind::delay) == "4.0.0");
    CHECK(st("550 5.1.1234 too many digits") == "5.0.0");
}

TEST_CASE("dsn: remote text cannot inject fields or boundaries", "[dsn][security]") {
    Envelope env = bounced_envelope();
    env.ret = "FULL";
    DsnRequest r = failure_request();
    r.recipients[0].reply = "550 5.1.1 no\r\nX-Injected: yes\r\n\r\n--evil\nBcc: victim@example.com\x01";
    r.recipients[0].remote_mta = "evil.example\r\nX-Host: injected";
    r.recipients[1].reply = "550 " + std::string(3000, 'A');  // one very long word
    // The original contains what our boundary would be.
    std::string original = kOriginal + "--=_mxgate_1700086400_018BCFE1D0A8C3F2A9B1\r\n";
    r.original = original;
    Dsn d = make_dsn(env, r);
    Parsed p = parse(d.message);
    REQUIRE(p.parts.size() == 3);
    CHECK(p.parts[2].body == original);
    auto groups = status_groups(p.parts[1].body);
    REQUIRE(groups.size() == 3);
    CHECK(groups[1].count("x-injected") == 0);
    CHECK(groups[1].count("bcc") == 0);
    CHECK(groups[1]["diagnostic-code"].find("X-Injected: yes --evil Bcc: victim@example.com?") != std::string::npos);
    CHECK(groups[1]["remote-mta"] == "dns; evil.example X-Host: injected");
    CHECK(groups[2]["diagnostic-code"].find(std::string(900, 'A')) != std::string::npos);
    CHECK(p.headers.count("x-injected") == 0);
    for (const Part& part : p.parts) CHECK(part.headers.count("x-injected") == 0);

    // A remote reply that carries our would-be boundary cannot end a part.
    r = failure_request();
    r.recipients[0].reply = "550 5.0.0 " + std::string(70, 'x') + " --=_mxgate_1700086400_018BCFE1D0A8C3F2A9B1--";
    Parsed q = parse(make_dsn(bounced_envelope(), r).message);
    CHECK(q.parts.size() == 3);
}

TEST_CASE("dsn: SMTPUTF8 messages use the RFC 6533 types", "[dsn]") {
    Envelope env = bounced_envelope();
    env.smtputf8 = true;
    env.sender = "jörg@example.net";
    DsnRequest r = failure_request();
    r.recipients[0].address = "ünïcode@example.org";
    r.recipients[0].orcpt = "utf-8;ünïcode@example.org";
    Dsn d = make_dsn(env, r);
    CHECK(d.smtputf8);
    Parsed p = parse(d.message);
    CHECK(p.headers["to"] == "<jörg@example.net>");
    CHECK(p.headers["content-type"].rfind("multipart/report; report-type=global-delivery-status;", 0) == 0);
    CHECK(p.parts[1].headers["content-type"] == "message/global-delivery-status");
    CHECK(p.parts[2].headers["content-type"] == "message/global-headers");
    auto groups = status_groups(p.parts[1].body);
    CHECK(groups[1]["final-recipient"] == "utf-8; ünïcode@example.org");
    CHECK(groups[1]["original-recipient"] == "utf-8; ünïcode@example.org");
    CHECK(groups[2]["final-recipient"] == "rfc822; user1@example.org");
}

TEST_CASE("dsn: a message without a body or without headers", "[dsn]") {
    Envelope env = bounced_envelope();
    DsnRequest r = failure_request();
    r.original = "Subject: only headers\r\n";
    Parsed p = parse(make_dsn(env, r).message);
    CHECK(p.parts[2].body == "Subject: only headers\r\n");
    r.original = "\r\nbody only\r\n";
    p = parse(make_dsn(env, r).message);
    CHECK(p.parts[2].body.empty());
}

TEST_CASE("should_bounce: never to the null sender or MAILER-DAEMON", "[dsn]") {
    Envelope e = bounced_envelope();
    CHECK(should_bounce(e));
    e.sender = "";
    CHECK_FALSE(should_bounce(e));
    e.sender = "MAILER-DAEMON@example.net";
    CHECK_FALSE(should_bounce(e));
    e.sender = "mailer-daemon@example.net";
    CHECK_FALSE(should_bounce(e));
    e.sender = "MAILER-DAEMON";
    CHECK_FALSE(should_bounce(e));
    e.sender = "postmaster@example.net";
    CHECK(should_bounce(e));
    e.sender = "mailer-daemon-fan@example.net";
    CHECK(should_bounce(e));
}

TEST_CASE("dsn: RET=FULL of a large message returns only its headers", "[dsn]") {
    Envelope env = bounced_envelope();
    env.ret = "FULL";
    std::string big = std::string(kOriginal);
    while (big.size() <= kDsnFullMessageLimit) big += std::string(998, 'x') + "\r\n";
    DsnRequest req = failure_request();
    req.original = big;
    Parsed p = parse(make_dsn(env, req).message);
    REQUIRE(p.parts.size() == 3);
    CHECK(p.parts[2].headers["content-type"] == "text/rfc822-headers");
    CHECK(p.parts[2].body.size() < 2000);
}

TEST_CASE("dsn: success notices (relayed, delivered) for NOTIFY=SUCCESS", "[dsn][success]") {
    Envelope env = bounced_envelope();
    env.ret = "FULL";  // RET concerns failures: a success notice returns headers only
    for (DsnKind kind : {DsnKind::relayed, DsnKind::delivered}) {
        DsnRequest r = failure_request();
        r.kind = kind;
        r.recipients[0].reply = "250 2.0.0 Ok: queued as 4AbC";
        r.recipients[1].status = "";
        r.recipients[1].reply = "250 Ok";
        Parsed p = parse(make_dsn(env, r).message);
        const std::string action = kind == DsnKind::relayed ? "relayed" : "delivered";
        CHECK(p.headers["subject"] == "Successful Mail Delivery Report");
        CHECK(p.headers["message-id"].find("." + action + "@mx.example.org>") != std::string::npos);
        auto groups = status_groups(p.parts[1].body);
        REQUIRE(groups.size() == 3);
        CHECK(groups[0]["original-envelope-id"] == "QQ314159");
        CHECK(groups[1]["action"] == action);
        CHECK(groups[1]["status"] == "2.0.0");
        CHECK(groups[1]["original-recipient"] == "rfc822; user0@example.org");
        CHECK(groups[1]["remote-mta"] == "dns; home.example.org");
        CHECK(groups[1]["diagnostic-code"] == "smtp; 250 2.0.0 Ok: queued as 4AbC");
        CHECK(groups[2]["action"] == action);
        CHECK(groups[2]["status"] == "2.0.0");  // from the reply class
        CHECK(p.parts[2].headers["content-type"] == "text/rfc822-headers");
        CHECK(p.parts[2].body.find("SECRET-BODY-LINE") == std::string::npos);
        CHECK(p.parts[0].body.find("successfully " + std::string(kind == DsnKind::relayed ? "relayed" : "delivered")) !=
              std::string::npos);
    }
}
