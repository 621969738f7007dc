// relay/core/event_sink.hpp — structured log events (SPEC §9).
//
// An Event is a name plus fields whose names come from a fixed enum, so a
// misspelt field name cannot compile. Sinks: JsonLineSink writes one JSON
// object per line (with "ts" in RFC 3339) to the configured log file;
// CaptureSink keeps events for tests.
//
// SECURITY: events carry peer-supplied text (HELO, addresses, errors); the
// JSON writer escapes every control character. Passwords, AUTH payloads
// and message bodies must never be put in an event.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "conf/config.hpp"

namespace mxgate::core {

enum class Field {
    session, queue_id, client, helo, user, sender, recipients, recipient, domain, mx, level,
    source, mode, tls_version, cipher, error, reason, result, policy, disposition, network,
    valid, would_fail, errors, listener, role, code, reply, peer_cert, size, count, id,
    attempts, delay, address, path, tls, status, since, duration, mechanism,
    offered_versions, offered_ciphers,  // inbound ClientHello (tls.handshake_failed)
};
std::string_view field_name(Field f);

struct Null {};
using Value = std::variant<Null, std::string, int64_t, bool, std::vector<std::string>>;

struct Event {
    std::string name;
    std::vector<std::pair<Field, Value>> fields;

    explicit Event(std::string n) : name(std::move(n)) {}
    Event& set(Field f, std::string v) { fields.emplace_back(f, Value{std::move(v)}); return *this; }
    Event& set(Field f, std::string_view v) { return set(f, std::string(v)); }
    Event& set(Field f, const char* v) { return set(f, std::string(v)); }
    Event& set(Field f, int64_t v) { fields.emplace_back(f, Value{v}); return *this; }
    Event& set(Field f, int v) { return set(f, int64_t{v}); }
    Event& set(Field f, uint64_t v) { return set(f, static_cast<int64_t>(v)); }
    Event& set(Field f, bool v) { fields.emplace_back(f, Value{v}); return *this; }
    Event& set(Field f, std::vector<std::string> v) { fields.emplace_back(f, Value{std::move(v)}); return *this; }
    Event& set_null(Field f) { fields.emplace_back(f, Value{Null{}}); return *this; }
    const Value* get(Field f) const;
    std::string str(Field f) const;  // string value or ""
};

class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void emit(const Event& e) = 0;
};

// Renders one event as a JSON object (no trailing newline).
std::string to_json(const Event& e, std::string_view ts);
// Renders "ts event key=value ..." for log.format: text.
std::string to_text(const Event& e, std::string_view ts);
// RFC 3339 UTC timestamp with milliseconds for now.
std::string rfc3339_now();

class JsonLineSink final : public EventSink {
public:
    // Opens log.file ("stderr", "stdout" or a path, appended). Throws on failure.
    explicit JsonLineSink(const conf::LogConfig& cfg);
    ~JsonLineSink() override;
    void emit(const Event& e) override;
    void reopen();  // SIGHUP: reopen a path (log rotation)
private:
    std::mutex mu_;
    conf::LogConfig cfg_;
    int fd_ = 2;
    bool owns_fd_ = false;
};

class CaptureSink final : public EventSink {
public:
    void emit(const Event& e) override;
    std::vector<Event> events() const;
    std::vector<Event> named(std::string_view name) const;
private:
    mutable std::mutex mu_;
    std::vector<Event> events_;
};

// Forwards to several sinks (log file + metrics counters, for instance).
class FanOutSink final : public EventSink {
public:
    void add(std::shared_ptr<EventSink> s) { sinks_.push_back(std::move(s)); }
    void emit(const Event& e) override { for (auto& s : sinks_) s->emit(e); }
private:
    std::vector<std::shared_ptr<EventSink>> sinks_;
};

}  // namespace mxgate::core
