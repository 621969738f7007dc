#include "relay/core/event_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <cstring>

namespace mxgate::core {

std::string_view field_name(Field f) {
    // Sized by its initialiser: adding a Field needs only its name here.
    static constexpr std::string_view names[] = {
        "session", "queue_id", "client", "helo", "user", "sender", "recipients", "recipient",
        "domain", "mx", "level", "source", "mode", "tls_version", "cipher", "error", "reason",
        "result", "policy", "disposition", "network", "valid", "would_fail", "errors",
        "listener", "role", "code", "reply", "peer_cert", "size", "count", "id", "attempts",
        "delay", "address", "path", "tls", "status", "since", "duration", "mechanism",
        "offered_versions", "offered_ciphers",
    };
    const auto i = static_cast<size_t>(f);
    return i < std::size(names) ? names[i] : "unknown";
}

const Value* Event::get(Field f) const {
    for (const auto& [k, v] : fields)
        if (k == f) return &v;
    return nullptr;
}

std::string Event::str(Field f) const {
    const Value* v = get(f);
    if (v && std::holds_alternative<std::string>(*v)) return std::get<std::string>(*v);
    return {};
}

namespace {

// JSON string escaping: quotes, backslash and every control character;
// bytes >= 0x80 pass through (peer text may be UTF-8 or garbage; invalid
// UTF-8 is replaced so the log stays valid JSON for strict readers).
void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else if (c < 0x80) {
                    out += static_cast<char>(c);
                } else {
                    // Validate one UTF-8 sequence; replace if invalid.
                    size_t len = (c >= 0xf0 && c < 0xf5) ? 4 : (c >= 0xe0) ? 3 : (c >= 0xc2) ? 2 : 0;
                    if (c >= 0xf5) len = 0;
                    bool ok = len > 0 && i + len <= s.size();
                    for (size_t k = 1; ok && k < len; ++k)
                        ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
                    if (ok) {
                        out.append(s.substr(i, len));
                        i += len - 1;
                    } else {
                        out += "\\ufffd";
                    }
                }
        }
    }
    out += '"';
}

void append_value(std::string& out, const Value& v) {
    if (std::holds_alternative<Null>(v)) {
        out += "null";
    } else if (auto s = std::get_if<std::string>(&v)) {
        append_json_string(out, *s);
    } else if (auto i = std::get_if<int64_t>(&v)) {
        out += std::to_string(*i);
    } else if (auto b = std::get_if<bool>(&v)) {
        out += *b ? "true" : "false";
    } else if (auto l = std::get_if<std::vector<std::string>>(&v)) {
        out += '[';
        for (size_t k = 0; k < l->size(); ++k) {
            if (k) out += ',';
            append_json_string(out, (*l)[k]);
        }
        out += ']';
    }
}

}  // namespace

std::string to_json(const Event& e, std::string_view ts) {
    std::string out = "{\"ts\":";
    append_json_string(out, ts);
    out += ",\"event\":";
    append_json_string(out, e.name);
    for (const auto& [k, v] : e.fields) {
        out += ',';
        append_json_string(out, field_name(k));
        out += ':';
        append_value(out, v);
    }
    out += '}';
    return out;
}

std::string to_text(const Event& e, std::string_view ts) {
    std::string out(ts);
    out += ' ';
    out += e.name;
    for (const auto& [k, v] : e.fields) {
        out += ' ';
        out += field_name(k);
        out += '=';
        append_value(out, v);
    }
    return out;
}

std::string rfc3339_now() {
    const auto now = std::chrono::system_clock::now();
    const auto secs = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

JsonLineSink::JsonLineSink(const conf::LogConfig& cfg) : cfg_(cfg) { reopen(); }

JsonLineSink::~JsonLineSink() {
    if (owns_fd_) ::close(fd_);
}

void JsonLineSink::reopen() {
    std::lock_guard lock(mu_);
    if (cfg_.file == "stderr" || cfg_.file.empty()) {
        fd_ = 2;
        return;
    }
    if (cfg_.file == "stdout") {
        fd_ = 1;
        return;
    }
    const int fd = ::open(cfg_.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        throw std::runtime_error("log.file: cannot open " + cfg_.file + ": " + std::strerror(errno));
    if (owns_fd_) ::close(fd_);
    fd_ = fd;
    owns_fd_ = true;
}

void JsonLineSink::emit(const Event& e) {
    const std::string ts = rfc3339_now();
    std::string line = cfg_.format == conf::LogFormat::json ? to_json(e, ts) : to_text(e, ts);
    line += '\n';
    std::lock_guard lock(mu_);
    // One write() per event keeps lines whole even with several writers.
    size_t off = 0;
    while (off < line.size()) {
        const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return;  // a broken log must not take the relay down
        }
        off += static_cast<size_t>(n);
    }
}

void CaptureSink::emit(const Event& e) {
    std::lock_guard lock(mu_);
    events_.push_back(e);
}

std::vector<Event> CaptureSink::events() const {
    std::lock_guard lock(mu_);
    return events_;
}

std::vector<Event> CaptureSink::named(std::string_view name) const {
    std::lock_guard lock(mu_);
    std::vector<Event> out;
    for (const auto& e : events_)
        if (e.name == name) out.push_back(e);
    return out;
}

}  // namespace mxgate::core
