// relay/smtp/data_reader.cpp — the DATA/BDAT content state machine (see
// data_reader.hpp for the rules and their RFC sources).
//
// Each input octet is handled exactly once, by a state that depends only on
// the octets before it, so chunk boundaries cannot change the outcome. The
// fast path in text_run() handles runs of ordinary octets inside a line and
// must stay equivalent to feeding them one by one through text_byte(); the
// data_reader fuzzer checks that by comparing whole, split and byte-wise
// feeding.
#include "relay/smtp/data_reader.hpp"

#include <algorithm>
#include <cstring>

#include "relay/smtp/ascii.hpp"

namespace mxgate::smtp {
namespace {

bool ordinary(char c) { return c != '\r' && c != '\n' && c != '\0'; }

// "Received" [WSP...] ":" at the start of a header line (RFC 5322 §3.6.7;
// WSP before the colon is the obsolete syntax of §4.5, still counted).
bool is_received_field(const char* head, size_t n) {
    constexpr std::string_view name = "received";
    if (n < name.size() + 1) return false;
    if (!ascii::iequals(std::string_view(head, name.size()), name)) return false;
    for (size_t i = name.size(); i < n; ++i) {
        if (head[i] == ':') return true;
        if (head[i] != ' ' && head[i] != '\t') return false;
    }
    return false;
}

}  // namespace

DataReader::DataReader(Mode mode, size_t line_length, uint64_t max_size)
    : mode_(mode), line_length_(line_length), max_size_(max_size) {}

void DataReader::count_wire(size_t n) {
    line_octets_ += n;
    if (line_octets_ > line_length_) report_.line_too_long = true;
}

void DataReader::emit(char c, std::string& out) {
    if (static_cast<unsigned char>(c) >= 0x80) {
        (in_headers_ ? report_.eight_bit_headers : report_.eight_bit_body) = true;
    }
    if (head_len_ < sizeof head_) head_[head_len_++] = c;
    ++line_content_;
    ++report_.size;
    if (report_.size > max_size_)
        report_.too_big = true;
    else
        out.push_back(c);
}

// Called after a CRLF has been emitted: the line is complete.
void DataReader::end_line() {
    if (in_headers_) {
        if (line_content_ == 2)  // just CRLF: the empty line ending the header section
            in_headers_ = false;
        else if (is_received_field(head_, head_len_))
            ++report_.received_count;
    }
    line_octets_ = 0;
    line_content_ = 0;
    head_len_ = 0;
}

// One octet of line text (state line_start, in_line or cr; never the
// DATA-mode leading dot, which feed() handles).
void DataReader::text_byte(char c, std::string& out) {
    if (state_ == State::cr) {
        if (c == '\n') {
            emit(c, out);
            end_line();
            state_ = State::line_start;
            return;
        }
        report_.bare_cr = true;  // the CR before this octet was not followed by LF
        state_ = State::in_line;
    }
    if (c == '\r') {
        emit(c, out);
        state_ = State::cr;
        return;
    }
    if (c == '\n') report_.bare_lf = true;  // LF without CR: never a line end
    if (c == '\0') report_.nul = true;
    emit(c, out);
    state_ = State::in_line;
}

FeedResult DataReader::feed(std::string_view in, std::string& out) {
    if (state_ == State::done) return FeedResult{0, true};
    const bool data_mode = mode_ == Mode::data;
    size_t i = 0;
    while (i < in.size()) {
        const char c = in[i];

        // Fast path: a run of ordinary octets inside a line (state in_line or
        // line_start without a leading dot) — same effect as text_byte() each.
        if ((state_ == State::in_line || (state_ == State::line_start && !(data_mode && c == '.'))) &&
            ordinary(c)) {
            size_t j = i + 1;
            while (j < in.size() && ordinary(in[j])) ++j;
            const std::string_view run = in.substr(i, j - i);
            count_wire(run.size());
            for (char r : run)
                if (static_cast<unsigned char>(r) >= 0x80) {
                    (in_headers_ ? report_.eight_bit_headers : report_.eight_bit_body) = true;
                    break;
                }
            const size_t head_take = std::min(run.size(), sizeof head_ - head_len_);
            std::memcpy(head_ + head_len_, run.data(), head_take);
            head_len_ += head_take;
            line_content_ += run.size();
            const uint64_t room = report_.size >= max_size_ ? 0 : max_size_ - report_.size;
            report_.size += run.size();
            if (run.size() > room) report_.too_big = true;
            out.append(run.substr(0, static_cast<size_t>(std::min<uint64_t>(room, run.size()))));
            state_ = State::in_line;
            i = j;
            continue;
        }

        count_wire(1);
        ++i;
        switch (state_) {
            case State::line_start:
                if (data_mode && c == '.') {
                    state_ = State::dot;  // held back: stuffing, or the end marker
                    break;
                }
                text_byte(c, out);
                break;
            case State::dot:
                if (c == '\r') {
                    state_ = State::dot_cr;
                    break;
                }
                // RFC 5321 §4.5.2: the leading dot of a longer line is removed.
                state_ = State::in_line;
                text_byte(c, out);
                break;
            case State::dot_cr:
                if (c == '\n') {  // CRLF "." CRLF — the only end of data
                    state_ = State::done;
                    return FeedResult{i, true};
                }
                // "." CR x: unstuffed line whose CR is bare.
                emit('\r', out);
                report_.bare_cr = true;
                state_ = State::in_line;
                text_byte(c, out);
                break;
            case State::in_line:
            case State::cr:
                text_byte(c, out);
                break;
            case State::done:
                return FeedResult{i - 1, true};
        }
    }
    return FeedResult{in.size(), false};
}

void DataReader::finish() {
    if (mode_ != Mode::bdat || state_ == State::done) return;
    if (state_ == State::cr) report_.bare_cr = true;  // chunk data ended on a lone CR
    state_ = State::done;
}

}  // namespace mxgate::smtp
