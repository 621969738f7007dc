// Tests for relay/smtp/data_reader: end-of-data only at CRLF.CRLF (SMTP
// smuggling variants), dot-unstuffing, violations, limits, header facts,
// BDAT mode, and independence from chunk boundaries.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "relay/smtp/smtp.hpp"

using namespace mxgate::smtp;
using namespace std::string_literals;

namespace {

struct Run {
    std::string out;
    DataReport report;
    size_t consumed = 0;
    bool done = false;
    bool operator==(const Run&) const = default;
};

// Feeds `in` in pieces of `step` bytes (0 = all at once), stopping at done.
Run run(const std::string& in, size_t step = 0, DataReader::Mode mode = DataReader::Mode::data,
        size_t line_length = 1000, uint64_t max_size = 1 << 20) {
    DataReader dr(mode, line_length, max_size);
    Run r;
    size_t pos = 0;
    while (pos < in.size() && !r.done) {
        const size_t n = step == 0 ? in.size() - pos : std::min(step, in.size() - pos);
        const FeedResult f = dr.feed(std::string_view(in).substr(pos, n), r.out);
        REQUIRE(f.consumed <= n);
        if (!f.done) REQUIRE(f.consumed == n);
        r.consumed += f.consumed;
        r.done = f.done;
        pos += n;
    }
    if (mode == DataReader::Mode::bdat) dr.finish();
    r.report = dr.report();
    CHECK(dr.done() == (r.done || mode == DataReader::Mode::bdat));
    return r;
}

// Whole, byte-by-byte and a few chunk sizes must agree exactly.
Run run_all_splits(const std::string& in, DataReader::Mode mode = DataReader::Mode::data,
                   size_t line_length = 1000, uint64_t max_size = 1 << 20) {
    const Run whole = run(in, 0, mode, line_length, max_size);
    for (size_t step : {1, 2, 3, 5, 7, 64}) {
        INFO("step " << step);
        CHECK(run(in, step, mode, line_length, max_size) == whole);
    }
    return whole;
}

}  // namespace

TEST_CASE("data reader: end of data and dot-unstuffing", "[data]") {
    struct Row {
        std::string in;
        std::string out;
        size_t consumed;  // npos = not done
    };
    const size_t nd = std::string::npos;
    const std::vector<Row> rows = {
        {".\r\n", "", 3},
        {"a\r\n.\r\n", "a\r\n", 6},
        {"a\r\n.\r\nMAIL FROM:<x@y.example>\r\n", "a\r\n", 6},
        {"..\r\n.\r\n", ".\r\n", 7},
        {"..a\r\n.\r\n", ".a\r\n", 8},
        {".a\r\n.\r\n", "a\r\n", 7},  // non-conforming stuffing: dot still removed (§4.5.2)
        {"a\r\n..\r\n.\r\n", "a\r\n.\r\n", 10},
        {"a.\r\n.\r\n", "a.\r\n", 7},
        {"a\r\n. \r\n.\r\n", "a\r\n \r\n", 10},
        {"a\r\n", "a\r\n", nd},
        {"a\r\n.\r", "a\r\n", nd},
        {"a\r\n.", "a\r\n", nd},
        {"\r\n.\r\n", "\r\n", 5},
    };
    for (const auto& row : rows) {
        INFO("input: " << row.in);
        const Run r = run_all_splits(row.in);
        CHECK(r.out == row.out);
        CHECK(r.done == (row.consumed != nd));
        if (row.consumed != nd) CHECK(r.consumed == row.consumed);
        CHECK(r.report.ok());
    }
}

TEST_CASE("data reader: smuggling variants are never end of data", "[data][smuggling]") {
    // Each variant sits inside a message whose real end follows; the reader
    // must not stop at the variant, must flag it, and must stop exactly
    // after the real CRLF.CRLF, leaving the pipelined command.
    struct Row {
        std::string variant;
        bool bare_cr, bare_lf, nul;
    };
    const std::vector<Row> rows = {
        {"\n.\n", false, true, false},
        {"\n.\r\n", false, true, false},
        {"\r.\r", true, false, false},
        {"\r\n.\r", true, false, false},      // followed by 'B': CR is bare
        {"\r\n.\n", false, true, false},
        {"\n.\r", true, true, false},
        {"\r.\r\n", true, false, false},
        {"\r.\n", true, true, false},
        {"\n\n.\n\n", false, true, false},
        {"\r\r\n.\r\r\n", true, false, false},
        {"\r\n.\r\r\n", true, false, false},
        {"\r\n.\0\r\n"s, false, false, true},
        {"\r\n\0.\r\n"s, false, false, true},
        {"\0\n.\n"s, false, true, true},
        {"\r\n.\r\0\n"s, true, true, true},
        {"\r\n.\n\r\n", false, true, false},
    };
    for (const auto& row : rows) {
        const std::string in = "Subject: t\r\n\r\nA" + row.variant + "B\r\n.\r\nQUIT\r\n";
        INFO("variant bytes: " << row.variant.size());
        const Run r = run_all_splits(in);
        CHECK(r.done);
        CHECK(r.consumed == in.size() - 6);  // "QUIT\r\n" stays for the command reader
        CHECK(r.out.size() >= 3);
        CHECK(r.out.substr(r.out.size() - 3) == "B\r\n");
        CHECK(r.report.bare_cr == row.bare_cr);
        CHECK(r.report.bare_lf == row.bare_lf);
        CHECK(r.report.nul == row.nul);
        CHECK(r.report.malformed());
        const auto verdict = replies::data_verdict(r.report);
        REQUIRE(verdict);
        CHECK(verdict->code == 550);
        CHECK(verdict->enhanced == "5.6.0");
    }
}

TEST_CASE("data reader: a smuggled end marker alone never ends data", "[data][smuggling]") {
    for (const std::string in : {"a\n.\n", "a\n.\r\n", "a\r.\r", "a\r\n.\n", "a\r\n.\rX", "a\n.\r"}) {
        INFO(in);
        const Run r = run_all_splits(in);
        CHECK_FALSE(r.done);
        CHECK(r.consumed == in.size());
    }
}

TEST_CASE("data reader: line length counts wire octets including CRLF", "[data][limits]") {
    CHECK_FALSE(run_all_splits("12345678\r\n.\r\n", DataReader::Mode::data, 10).report.line_too_long);
    CHECK(run_all_splits("123456789\r\n.\r\n", DataReader::Mode::data, 10).report.line_too_long);
    CHECK(run_all_splits("..2345678\r\n.\r\n", DataReader::Mode::data, 10).report.line_too_long);  // stuffing dot counts
    CHECK_FALSE(run_all_splits(".2345678\r\n.\r\n", DataReader::Mode::data, 10).report.line_too_long);
    const std::string long_line(2000, 'x');
    const Run r = run_all_splits("a\r\n" + long_line + "\r\nb\r\n.\r\nNOOP\r\n");
    CHECK(r.report.line_too_long);
    CHECK(r.done);  // reading continues to the real end
    CHECK(r.out == "a\r\n" + long_line + "\r\nb\r\n");
    const auto v = replies::data_verdict(r.report);
    REQUIRE(v);
    CHECK(v->code == 550);
    CHECK(v->enhanced == "5.6.0");
}

TEST_CASE("data reader: size limit stops buffering but keeps reading", "[data][limits]") {
    const Run r = run_all_splits("12345\r\n6789\r\n.\r\nQUIT\r\n", DataReader::Mode::data, 1000, 8);
    CHECK(r.report.too_big);
    CHECK(r.out == "12345\r\n6");
    CHECK(r.report.size == 13);
    CHECK(r.done);
    const auto v = replies::data_verdict(r.report);
    REQUIRE(v);
    CHECK(v->code == 552);
    CHECK(v->enhanced == "5.3.4");
    const Run exact = run_all_splits("1234\r\n.\r\n", DataReader::Mode::data, 1000, 6);
    CHECK_FALSE(exact.report.too_big);
    CHECK(exact.out == "1234\r\n");
}

TEST_CASE("data reader: Received: headers are counted in the header section only", "[data][loop]") {
    auto message = [](int received, const std::string& name = "Received") {
        std::string m;
        for (int i = 0; i < received; ++i) m += name + ": from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n";
        m += "Subject: hi\r\n\r\nReceived: in the body\r\n.\r\n";
        return m;
    };
    CHECK(run_all_splits(message(50)).report.received_count == 50);
    CHECK(run_all_splits(message(50)).report.ok());
    const Run loop = run_all_splits(message(51));
    CHECK(loop.report.received_count == 51);
    CHECK(loop.report.loop());
    const auto v = replies::data_verdict(loop.report);
    REQUIRE(v);
    CHECK(v->code == 554);
    CHECK(v->enhanced == "5.4.6");
    CHECK(run_all_splits(message(3, "RECEIVED")).report.received_count == 3);
    CHECK(run_all_splits(message(3, "received")).report.received_count == 3);
    CHECK(run_all_splits(message(3, "Received ")).report.received_count == 3);  // obsolete WSP before ':'
    CHECK(run_all_splits(message(3, "X-Received")).report.received_count == 0);
    CHECK(run_all_splits(message(3, "Received-SPF")).report.received_count == 0);
    CHECK(run_all_splits(".Received: x\r\n\r\n.\r\n").report.received_count == 1);  // after unstuffing
}

TEST_CASE("data reader: 8-bit octets in headers and body", "[data]") {
    const Run h = run_all_splits("Subject: \xc3\xa9\r\n\r\nplain\r\n.\r\n");
    CHECK(h.report.eight_bit_headers);
    CHECK_FALSE(h.report.eight_bit_body);
    const Run b = run_all_splits("Subject: x\r\n\r\nd\xc3\xa9j\xc3\xa0\r\n.\r\n");
    CHECK_FALSE(b.report.eight_bit_headers);
    CHECK(b.report.eight_bit_body);
    CHECK(b.report.ok());
}

TEST_CASE("data reader: done stops consuming", "[data]") {
    DataReader dr(DataReader::Mode::data, 1000, 1000);
    std::string out;
    FeedResult f = dr.feed("x\r\n.\r\nRSET\r\n", out);
    CHECK(f.done);
    CHECK(f.consumed == 6);
    f = dr.feed("RSET\r\n", out);
    CHECK(f.done);
    CHECK(f.consumed == 0);
    CHECK(out == "x\r\n");
}

TEST_CASE("data reader: BDAT mode", "[data][bdat]") {
    using M = DataReader::Mode;
    const Run plain = run_all_splits("a\r\n.\r\n..b\r\n", M::bdat);
    CHECK(plain.out == "a\r\n.\r\n..b\r\n");  // no unstuffing, no end marker
    CHECK_FALSE(plain.done);
    CHECK(plain.consumed == 11);
    CHECK(plain.report.ok());
    CHECK(run_all_splits("a\nb\r\n", M::bdat).report.bare_lf);
    CHECK(run_all_splits("a\rb\r\n", M::bdat).report.bare_cr);
    CHECK(run_all_splits("a\r", M::bdat).report.bare_cr);  // lone CR at the end of the last chunk
    CHECK(run_all_splits("a\0b\r\n"s, M::bdat).report.nul);
    CHECK(run_all_splits("123456789\r\n", M::bdat, 10).report.line_too_long);
    CHECK_FALSE(run_all_splits("12345678\r\n", M::bdat, 10).report.line_too_long);

    // A CRLF split across two BDAT chunks is fine; so are headers across chunks.
    DataReader dr(M::bdat, 1000, 1000);
    std::string out;
    dr.feed("Received: a\r", out);
    dr.feed("\nSubject: x\r\n\r", out);
    dr.feed("\nbody\r\n", out);
    dr.finish();
    CHECK(dr.report().ok());
    CHECK(dr.report().received_count == 1);
    CHECK(dr.done());
}
