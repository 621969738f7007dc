// dmarc/header_fields.cpp — RFC 5322 §2.2 / §3.6 header block splitting.
#include "dmarc/header_fields.hpp"

namespace mxgate::dmarc {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// ftext (RFC 5322 §3.6.8): printable US-ASCII except ':'.
bool is_ftext(char c) { return c >= 33 && c <= 126 && c != ':'; }

// One physical line: [start, content_end) without its line break, next = start of the following line.
struct Line {
    size_t start = 0;
    size_t content_end = 0;
    size_t next = 0;
};

Line line_at(std::string_view s, size_t pos) {
    Line l;
    l.start = pos;
    const size_t lf = s.find('\n', pos);
    if (lf == std::string_view::npos) {
        l.content_end = s.size();
        l.next = s.size();
        return l;
    }
    l.content_end = (lf > pos && s[lf - 1] == '\r') ? lf - 1 : lf;
    l.next = lf + 1;
    return l;
}

// Name of a field line, or empty when the line is not "ftext+ *WSP ':'".
std::string_view field_name(std::string_view line, size_t& colon) {
    colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return {};
    size_t end = colon;
    while (end > 0 && is_wsp(line[end - 1])) --end;
    if (end == 0) return {};
    for (size_t i = 0; i < end; ++i)
        if (!is_ftext(line[i])) return {};
    return line.substr(0, end);
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool HeaderField::is(std::string_view n) const { return !malformed && iequals(name, n); }

size_t HeaderBlock::count(std::string_view name) const {
    size_t n = 0;
    for (const auto& f : fields) n += f.is(name) ? 1 : 0;
    return n;
}

std::vector<const HeaderField*> HeaderBlock::all(std::string_view name) const {
    std::vector<const HeaderField*> out;
    for (const auto& f : fields)
        if (f.is(name)) out.push_back(&f);
    return out;
}

const HeaderField* HeaderBlock::first(std::string_view name) const {
    for (const auto& f : fields)
        if (f.is(name)) return &f;
    return nullptr;
}

HeaderBlock split_header_block(std::string_view s) {
    HeaderBlock b;
    size_t pos = 0;
    while (pos < s.size()) {
        const Line l = line_at(s, pos);
        const std::string_view text = s.substr(l.start, l.content_end - l.start);
        if (text.empty()) {  // the empty line ends the header block
            b.body_offset = l.next;
            b.complete = true;
            return b;
        }
        if (is_wsp(text[0]) && !b.fields.empty()) {
            // Continuation: unfolding removes only the line break (§2.2.3).
            HeaderField& f = b.fields.back();
            f.value.append(text);
            f.length = l.next - f.offset;
            pos = l.next;
            continue;
        }
        HeaderField f;
        f.offset = l.start;
        f.length = l.next - l.start;
        size_t colon = 0;
        const std::string_view name = is_wsp(text[0]) ? std::string_view{} : field_name(text, colon);
        if (name.empty()) {
            // Not a field: kept (so a rewrite preserves it) but never matches a name.
            // Scanning goes on: a From: hidden after a junk line still counts.
            f.malformed = true;
            f.value = std::string(text);
            ++b.malformed_lines;
        } else {
            f.name = std::string(name);
            f.value = std::string(text.substr(colon + 1));
        }
        b.fields.push_back(std::move(f));
        pos = l.next;
    }
    b.body_offset = s.size();
    b.complete = false;
    return b;
}

}  // namespace mxgate::dmarc
