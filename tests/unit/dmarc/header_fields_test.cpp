// Tests for dmarc/header_fields: splitting, unfolding, raw offsets, names.
#include <catch2/catch.hpp>

#include <string>

#include "dmarc/header_fields.hpp"

using namespace mxgate::dmarc;

TEST_CASE("header block: fields, unfolding, body offset") {
    const std::string msg =
        "From: Alice <alice@example.org>\r\n"
        "Subject: a folded\r\n"
        "\tsubject line\r\n"
        "to: bob@example.net\r\n"
        "\r\n"
        "Body: not a header\r\n";
    const HeaderBlock b = split_header_block(msg);
    REQUIRE(b.complete);
    REQUIRE(b.fields.size() == 3);
    CHECK(b.fields[0].name == "From");
    CHECK(b.fields[0].value == " Alice <alice@example.org>");
    CHECK(b.fields[1].value == " a folded\tsubject line");
    CHECK(msg.substr(b.fields[1].offset, b.fields[1].length) == "Subject: a folded\r\n\tsubject line\r\n");
    CHECK(b.fields[2].is("TO"));
    CHECK(b.count("to") == 1);
    CHECK(b.count("body") == 0);
    CHECK(msg.substr(b.body_offset) == "Body: not a header\r\n");
    CHECK(b.first("FROM") == &b.fields[0]);
}

TEST_CASE("header block: obs WSP before the colon, case-insensitive names") {
    const HeaderBlock b = split_header_block("FROM : a@b.example\r\nfRoM:c@d.example\r\n\r\n");
    CHECK(b.count("From") == 2);
    CHECK(b.fields[0].name == "FROM");
    CHECK(b.fields[1].value == "c@d.example");
}

TEST_CASE("header block: malformed lines are kept and never match, scanning continues") {
    const std::string msg = "X: 1\r\nnot a header line\r\n continued\r\nFrom: a@b.example\r\n\r\nbody";
    const HeaderBlock b = split_header_block(msg);
    REQUIRE(b.fields.size() == 3);
    CHECK(b.malformed_lines == 1);
    CHECK(b.fields[1].malformed);
    CHECK_FALSE(b.fields[1].is(""));
    CHECK(b.count("From") == 1);
    CHECK(msg.substr(b.body_offset) == "body");
}

TEST_CASE("header block: leading continuation and empty names are malformed") {
    const HeaderBlock b = split_header_block(" leading: x\r\n: empty\r\nbad name: x\r\nok:\r\n\r\n");
    REQUIRE(b.fields.size() == 4);
    CHECK(b.fields[0].malformed);
    CHECK(b.fields[1].malformed);
    CHECK(b.fields[2].malformed);  // SP inside a field name
    CHECK(b.fields[3].is("ok"));
    CHECK(b.fields[3].value.empty());
}

TEST_CASE("header block: no blank line, bare LF, raw bytes cover the input") {
    const std::string msg = "A: 1\nB: 2\r\n x";
    const HeaderBlock b = split_header_block(msg);
    CHECK_FALSE(b.complete);
    CHECK(b.body_offset == msg.size());
    REQUIRE(b.fields.size() == 2);
    CHECK(b.fields[1].value == " 2 x");
    std::string joined;
    for (const auto& f : b.fields) joined += msg.substr(f.offset, f.length);
    CHECK(joined == msg);
}

TEST_CASE("header block: empty message and message starting with the blank line") {
    CHECK(split_header_block("").fields.empty());
    const HeaderBlock b = split_header_block("\r\nbody");
    CHECK(b.complete);
    CHECK(b.body_offset == 2);
    CHECK(b.fields.empty());
}
