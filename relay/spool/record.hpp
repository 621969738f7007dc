// relay/spool/record.hpp — the length-prefixed field format shared by the
// envelope and state records (private to relay/spool).
//
// A record is
//     magic (4 bytes) · version (1 byte) · field* · end field
// and a field is
//     tag (1 byte) · length (4 bytes, big-endian) · value (length bytes)
// The end field is tag 'E' with length 0, and it must be the last byte of
// the input: trailing bytes are an error. Each record type fixes the order
// of its tags, so a decoder reads "the next field must be tag X" and never
// scans for delimiters — peer text inside a value can never be taken for a
// field or record boundary (STYLE §4, Postfix global/mail_stream.c; the
// OpenSMTPD 3a7096cd envelope injection is the failure this prevents).
//
// Integers are fixed width (big-endian, two's complement for signed),
// booleans are exactly 0 or 1: every value has exactly one encoding, so
// encode(decode(x)) == x for every accepted x (the fuzz target checks it).
//
// SECURITY: In reads bytes that a crash may have truncated or a disk error
// corrupted. Every length is checked against what remains before a byte is
// touched; after the first error every call fails and nothing is read.
// Pure C++, no I/O, so it can be fuzzed (tests/fuzz/envelope_fuzz.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mxgate::spool::record {

// Builds a record. Values longer than 4 GiB - 1 throw std::length_error
// (a bug: nothing mxgate stores is that large).
class Out {
public:
    Out(std::string_view magic, uint8_t version);
    void str(char tag, std::string_view value);
    void u8(char tag, uint8_t value);
    void u32(char tag, uint32_t value);
    void i64(char tag, int64_t value);
    // Appends the end field and returns the record.
    std::string finish();

private:
    void head(char tag, size_t len);
    std::string buf_;
};

// Reads a record field by field; ok() turns false at the first mismatch
// and stays false.
class In {
public:
    explicit In(std::string_view data) : data_(data) {}
    bool header(std::string_view magic, uint8_t version);
    // Reads the magic and a version in [min_version, max_version]; 0 on failure.
    uint8_t version(std::string_view magic, uint8_t min_version, uint8_t max_version);
    // single_line: the value must not contain CR, LF or NUL (addresses,
    // names, parameters — anything that may later be written into an SMTP
    // command or a header line).
    bool str(char tag, std::string& out, bool single_line);
    bool u8(char tag, uint8_t& out);
    bool u32(char tag, uint32_t& out);
    bool i64(char tag, int64_t& out);
    // The end field, and nothing after it.
    bool end();
    bool ok() const { return ok_; }
    size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }

private:
    // Reads tag and length and returns the value, checked to fit.
    bool field(char tag, std::string_view& value);
    bool fail() { ok_ = false; return false; }
    std::string_view data_;
    size_t pos_ = 0;
    bool ok_ = true;
};

// Smallest possible field: tag + length, empty value.
inline constexpr size_t kFieldOverhead = 5;

bool is_single_line(std::string_view s);

}  // namespace mxgate::spool::record
