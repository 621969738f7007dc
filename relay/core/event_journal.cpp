#include "relay/core/event_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

namespace mxgate::core {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kFamilies[] = {"tls.", "auth.", "lab.", "delivery.", "mta_sts.", "policy.",
                                          "queue.accepted"};

// Minimal reader for the flat objects to_json() writes: string, number,
// true/false/null and arrays of strings as values.
class FlatJson {
public:
    explicit FlatJson(std::string_view s) : s_(s) {}

    bool parse(JournalRecord& out) {
        ws();
        if (!eat('{')) return false;
        ws();
        if (eat('}')) return true;
        for (;;) {
            ws();
            std::string key;
            if (!string(key)) return false;
            ws();
            if (!eat(':')) return false;
            ws();
            std::string value;
            if (!any_value(value)) return false;
            out[key] = std::move(value);
            ws();
            if (eat(',')) continue;
            return eat('}');
        }
    }

private:
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
    }
    bool eat(char c) {
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    bool string(std::string& out) {
        if (!eat('"')) return false;
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (c == '"') return true;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) return false;
            const char e = s_[i_++];
            switch (e) {
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    if (i_ + 4 > s_.size()) return false;
                    const unsigned v = std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16);
                    i_ += 4;
                    if (v < 0x80) {
                        out += static_cast<char>(v);
                    } else if (v < 0x800) {
                        out += static_cast<char>(0xC0 | (v >> 6));
                        out += static_cast<char>(0x80 | (v & 0x3F));
                    } else {
                        out += static_cast<char>(0xE0 | (v >> 12));
                        out += static_cast<char>(0x80 | ((v >> 6) & 0x3F));
                        out += static_cast<char>(0x80 | (v & 0x3F));
                    }
                    break;
                }
                default: out += e; break;
            }
        }
        return false;
    }
    bool any_value(std::string& out) {
        if (i_ >= s_.size()) return false;
        const char c = s_[i_];
        if (c == '"') return string(out);
        if (c == '[') {
            ++i_;
            ws();
            if (eat(']')) return true;
            for (;;) {
                ws();
                std::string item;
                if (!any_value(item)) return false;
                if (!out.empty()) out += ',';
                out += item;
                ws();
                if (eat(',')) continue;
                return eat(']');
            }
        }
        const size_t start = i_;
        while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ') ++i_;
        out = std::string(s_.substr(start, i_ - start));
        if (out == "null") out.clear();
        return i_ > start;
    }

    std::string_view s_;
    size_t i_ = 0;
};

}  // namespace

fs::path EventJournal::file(const fs::path& spool_dir) { return spool_dir / "state" / "events.jsonl"; }

bool EventJournal::journalled(std::string_view name) {
    for (const std::string_view f : kFamilies)
        if (name.substr(0, f.size()) == f) return true;
    return false;
}

EventJournal::EventJournal(const fs::path& spool_dir) {
    std::error_code ec;
    fs::create_directories(spool_dir / "state", ec);
    const fs::path p = file(spool_dir);
    fd_ = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot open " + p.string());
}

EventJournal::~EventJournal() {
    if (fd_ >= 0) ::close(fd_);
}

void EventJournal::emit(const Event& e) {
    if (!journalled(e.name)) return;
    std::string line = to_json(e, rfc3339_now());
    line += '\n';
    std::lock_guard lock(mu_);
    // One write per line with O_APPEND: lines of concurrent writers never interleave.
    [[maybe_unused]] const ssize_t n = ::write(fd_, line.data(), line.size());
}

JournalRecord parse_journal_line(std::string_view line) {
    JournalRecord r;
    FlatJson p(line);
    try {
        if (!p.parse(r)) return {};
    } catch (const std::exception&) {  // a malformed \u escape
        return {};
    }
    return r;
}

std::vector<JournalRecord> read_journal(const fs::path& spool_dir, const std::string& since) {
    std::vector<JournalRecord> out;
    std::ifstream in(EventJournal::file(spool_dir));
    std::string line;
    while (std::getline(in, line)) {
        JournalRecord r = parse_journal_line(line);
        if (r.empty() || r["event"].empty()) continue;
        if (!since.empty() && r["ts"] < since) continue;
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace mxgate::core
