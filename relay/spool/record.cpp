// relay/spool/record.cpp — length-prefixed fields (see record.hpp).
#include "relay/spool/record.hpp"

#include <stdexcept>

namespace mxgate::spool::record {

namespace {

void put_be(std::string& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(std::string_view in, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
    return v;
}

}  // namespace

bool is_single_line(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

Out::Out(std::string_view magic, uint8_t version) {
    buf_.append(magic);
    buf_.push_back(static_cast<char>(version));
}

void Out::head(char tag, size_t len) {
    if (len > 0xffffffffu) throw std::length_error("spool record field too long");
    buf_.push_back(tag);
    put_be(buf_, len, 4);
}

void Out::str(char tag, std::string_view value) {
    head(tag, value.size());
    buf_.append(value);
}

void Out::u8(char tag, uint8_t value) {
    head(tag, 1);
    buf_.push_back(static_cast<char>(value));
}

void Out::u32(char tag, uint32_t value) {
    head(tag, 4);
    put_be(buf_, value, 4);
}

void Out::i64(char tag, int64_t value) {
    head(tag, 8);
    put_be(buf_, static_cast<uint64_t>(value), 8);
}

std::string Out::finish() {
    head('E', 0);
    return std::move(buf_);
}

bool In::header(std::string_view magic, uint8_t version) {
    if (!ok_) return false;
    if (data_.size() - pos_ < magic.size() + 1) return fail();
    if (data_.substr(pos_, magic.size()) != magic) return fail();
    if (static_cast<uint8_t>(data_[pos_ + magic.size()]) != version) return fail();  // unknown version
    pos_ += magic.size() + 1;
    return true;
}

uint8_t In::version(std::string_view magic, uint8_t min_version, uint8_t max_version) {
    if (!ok_) return 0;
    if (data_.size() - pos_ < magic.size() + 1) return fail(), 0;
    if (data_.substr(pos_, magic.size()) != magic) return fail(), 0;
    const auto v = static_cast<uint8_t>(data_[pos_ + magic.size()]);
    if (v < min_version || v > max_version || v == 0) return fail(), 0;
    pos_ += magic.size() + 1;
    return v;
}

bool In::field(char tag, std::string_view& value) {
    if (!ok_) return false;
    size_t left = data_.size() - pos_;
    if (left < kFieldOverhead) return fail();
    if (data_[pos_] != tag) return fail();
    uint64_t len = get_be(data_.substr(pos_ + 1, 4), 4);
    left -= kFieldOverhead;
    if (len > left) return fail();  // overlong length: never read past the end
    value = data_.substr(pos_ + kFieldOverhead, static_cast<size_t>(len));
    pos_ += kFieldOverhead + static_cast<size_t>(len);
    return true;
}

bool In::str(char tag, std::string& out, bool single_line) {
    std::string_view v;
    if (!field(tag, v)) return false;
    if (single_line && !is_single_line(v)) return fail();
    out.assign(v);
    return true;
}

bool In::u8(char tag, uint8_t& out) {
    std::string_view v;
    if (!field(tag, v)) return false;
    if (v.size() != 1) return fail();
    out = static_cast<uint8_t>(v[0]);
    return true;
}

bool In::u32(char tag, uint32_t& out) {
    std::string_view v;
    if (!field(tag, v)) return false;
    if (v.size() != 4) return fail();
    out = static_cast<uint32_t>(get_be(v, 4));
    return true;
}

bool In::i64(char tag, int64_t& out) {
    std::string_view v;
    if (!field(tag, v)) return false;
    if (v.size() != 8) return fail();
    out = static_cast<int64_t>(get_be(v, 8));
    return true;
}

bool In::end() {
    std::string_view v;
    if (!field('E', v)) return false;
    if (!v.empty()) return fail();
    if (pos_ != data_.size()) return fail();  // trailing garbage
    return true;
}

}  // namespace mxgate::spool::record
