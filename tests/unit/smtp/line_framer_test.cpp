// Tests for relay/smtp/line_framer: CRLF-only framing, limits, resync.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "relay/smtp/smtp.hpp"

using namespace mxgate::smtp;

namespace {

// Runs the framer over `input` fed in pieces of `step` bytes (0 = whole) and
// returns a transcript: "L:<line>" for lines, "E:<status>" for errors.
std::vector<std::string> frame_all(const std::string& input, size_t step = 0) {
    static const char* names[] = {"need_more", "line", "too_long", "bare_lf", "bare_cr", "nul"};
    LineFramer fr;
    std::string buf;
    std::vector<std::string> out;
    size_t pos = 0;
    while (true) {
        Frame f = fr.next(buf);
        REQUIRE(f.consumed <= buf.size());
        if (f.status == FrameStatus::line)
            out.push_back("L:" + std::string(f.line));
        else if (f.is_error())
            out.push_back(std::string("E:") + names[static_cast<int>(f.status)]);
        buf.erase(0, f.consumed);
        if (f.status == FrameStatus::need_more) {
            if (pos >= input.size()) break;
            const size_t n = step == 0 ? input.size() - pos : std::min(step, input.size() - pos);
            buf.append(input, pos, n);
            pos += n;
        }
    }
    return out;
}

}  // namespace

TEST_CASE("line framer: table of inputs", "[framer]") {
    struct Row {
        std::string input;
        std::vector<std::string> expect;
    };
    const std::string l510(510, 'a'), l511(511, 'a');
    const std::vector<Row> rows = {
        {"NOOP\r\n", {"L:NOOP"}},
        {"NOOP\r\nQUIT\r\n", {"L:NOOP", "L:QUIT"}},
        {"\r\n", {"L:"}},
        {"NOOP", {}},                                   // incomplete: need_more only
        {"NOOP\r", {}},                                 // lone CR at the end: need_more
        {"NOOP\nQUIT\r\n", {"E:bare_lf"}},              // bare LF poisons the whole line
        {"NOOP\nQUIT\r\nRSET\r\n", {"E:bare_lf", "L:RSET"}},
        {"NOOP\rQUIT\r\nRSET\r\n", {"E:bare_cr", "L:RSET"}},
        {"\n", {"E:bare_lf"}},
        {"\r\r\nRSET\r\n", {"E:bare_cr", "L:RSET"}},
        {l510 + "\r\n", {"L:" + l510}},                 // 512 octets with CRLF: allowed
        {l511 + "\r\nRSET\r\n", {"E:too_long", "L:RSET"}},  // 513: too long, then resync
        {l511 + l511 + "\r\nRSET\r\n", {"E:too_long", "L:RSET"}},  // reported once
        {l511 + "\nX\r\nRSET\r\n", {"E:too_long", "L:RSET"}},
        {l511 + "\r\r\nRSET\r\n", {"E:too_long", "L:RSET"}},
    };
    for (const auto& row : rows) {
        const std::string in = row.input;
        INFO("input size " << in.size() << ": " << in.substr(0, 40));
        CHECK(frame_all(in) == row.expect);
        CHECK(frame_all(in, 1) == row.expect);  // byte by byte: same transcript
        CHECK(frame_all(in, 7) == row.expect);
    }
}

TEST_CASE("line framer: NUL inside input literal", "[framer]") {
    const std::string in("NO\0OP\r\nRSET\r\n", 13);
    CHECK(frame_all(in) == std::vector<std::string>{"E:nul", "L:RSET"});
    CHECK(frame_all(in, 1) == std::vector<std::string>{"E:nul", "L:RSET"});
}

TEST_CASE("line framer: consumed covers the line and CRLF, line points into input", "[framer]") {
    LineFramer fr;
    const std::string in = "EHLO x\r\nMAIL";
    Frame f = fr.next(in);
    REQUIRE(f.status == FrameStatus::line);
    CHECK(f.line == "EHLO x");
    CHECK(f.line.data() == in.data());
    CHECK(f.consumed == 8);
    Frame g = fr.next(std::string_view(in).substr(8));
    CHECK(g.status == FrameStatus::need_more);
    CHECK(g.consumed == 0);
}

TEST_CASE("line framer: resync discards across reads, keeping a trailing CR", "[framer]") {
    LineFramer fr;
    Frame f = fr.next(std::string(600, 'x'));
    CHECK(f.status == FrameStatus::too_long);
    CHECK(fr.resyncing());
    f = fr.next("yyyy\r");
    CHECK(f.status == FrameStatus::need_more);
    CHECK(f.consumed == 4);  // the CR is kept: its LF may come next
    f = fr.next("\r\nQUIT\r\n");
    CHECK(f.status == FrameStatus::line);
    CHECK(f.line == "QUIT");
    CHECK_FALSE(fr.resyncing());
    fr.reset();
    CHECK_FALSE(fr.resyncing());
}

TEST_CASE("line framer: frame errors map to 500 5.5.2", "[framer]") {
    for (auto s : {FrameStatus::too_long, FrameStatus::bare_lf, FrameStatus::bare_cr, FrameStatus::nul}) {
        const auto r = replies::frame_error(s);
        CHECK(r.code == 500);
        CHECK(r.enhanced == "5.5.2");
    }
}
