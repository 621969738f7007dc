// relay/spool/spool.hpp — the durable queue: the only hand-off between
// receiving and delivery (STYLE §1, like Postfix's queue directories).
//
// Layout under `spool:` (created 0700):
//   incoming/  messages being received (never delivered; removed at start)
//   free/      delivered messages' files kept for reuse (never delivered;
//              removed at start; docs/spool.md "Recycling")
//   queue/     committed messages <id> and their delivery state <id>.state
//   hold/      held messages (quarantine: hold, or `mxgate queue hold`)
//   corrupt/   files that failed to parse, moved aside with an event
//   state/     small stores of other modules (downstream status, caches)
//
// Message file: the message bytes as received (CRLF lines, dots unstuffed),
// then the envelope record, then a fixed trailer giving the envelope's
// offset and an end marker. A file without a valid trailer is incomplete
// and is never delivered. Envelope fields are length-prefixed so peer text
// can never become a record (Postfix global/mail_stream.c; OpenSMTPD
// 3a7096cd shows what happens otherwise).
//
// Durability (SPEC §4): Writer::commit() writes the envelope and trailer,
// fsyncs the file, renames it into queue/ (or straight into hold/) and
// fsyncs that directory before returning; only then may the session answer 250. update() replaces the
// .state file atomically (write, fsync, rename, fsync dir).
//
// SECURITY: envelope and state files are parsed from disk that a crash may
// have truncated: the parsers are pure and fuzzed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::spool {

enum class RcptState : uint8_t { pending = 0, delivered = 1, failed = 2 };

// RFC 3461 §4.1 NOTIFY as bits; 0 = not given (the default: failure and delay).
namespace notify {
inline constexpr uint8_t never = 1, success = 2, failure = 4, delay = 8;
inline constexpr uint8_t kAll = never | success | failure | delay;
}  // namespace notify

struct Recipient {
    std::string address;          // as given in RCPT TO (without <>)
    std::string orcpt;            // DSN ORCPT parameter, if any
    RcptState state = RcptState::pending;
    std::string last_reply;       // last remote reply or error text
    uint8_t notify = 0;           // notify:: bits; 0 = NOTIFY not given
};

// Whether a recipient's NOTIFY asks for a failure (or delay) notice.
inline bool notify_wants(const Recipient& r, uint8_t what) {
    if (r.notify == 0) return what == notify::failure || what == notify::delay;
    return (r.notify & what) != 0;
}

struct Envelope {
    std::string id;               // queue id
    std::string sender;           // MAIL FROM address; "" = null sender <>
    std::vector<Recipient> recipients;
    int64_t arrival = 0;          // unix seconds
    std::string client_ip;        // peer address ("" for local bounces)
    std::string helo;
    std::string auth_user;        // authenticated submitter, if any
    std::string listener;         // listener name that received it
    bool smtputf8 = false;
    bool body_8bit = false;
    std::string ret;              // DSN RET= (FULL|HDRS) or ""
    std::string envid;            // DSN ENVID= or ""
    // RFC 8689 (docs/requiretls.md): MAIL FROM carried REQUIRETLS; every
    // onward hop must be verified TLS that offers REQUIRETLS, else bounce.
    bool requiretls = false;
    // RFC 8689 §3 "TLS-Required: No" (only without REQUIRETLS): the sender
    // asks that recipient-side policies (MTA-STS, DANE) not stop delivery.
    bool tls_optional = false;
    // Header lines mxgate adds in front of the message (Received:,
    // Authentication-Results:), CRLF-terminated, stored apart from the body.
    std::string prepend;
    uint64_t size = 0;            // message bytes in the file (without prepend)
};

// Mutable delivery state, kept in <id>.state and replaced atomically.
struct DeliveryState {
    std::vector<RcptState> rcpt_state;   // parallel to Envelope::recipients
    std::vector<std::string> rcpt_reply;
    int attempts = 0;
    int64_t next_attempt = 0;            // unix seconds; 0 = now
    bool delay_warned = false;
    std::string last_error;
};

struct QueuedMessage {
    Envelope envelope;
    DeliveryState state;
    std::string path;      // message file
    uint64_t body_offset = 0;  // always 0 today: body starts the file
    bool held = false;
};

// Where Writer::commit() puts a message.
enum class Destination : uint8_t { queue, hold };

class Spool {
public:
    virtual ~Spool() = default;

    class Writer {
    public:
        virtual ~Writer() = default;
        virtual const std::string& id() const = 0;
        // Appends message bytes (already unstuffed, CRLF line ends).
        virtual bool write(std::string_view data) = 0;
        // Durable commit into queue/ (delivered) or hold/ (quarantine:
        // hold — never visible to delivery, not even after a crash between
        // two steps); returns false (and removes the file) on I/O error.
        virtual bool commit(const Envelope& env, Destination to = Destination::queue) = 0;
        // The same commit, finished by a callback: done(true) only once
        // commit() would have returned true (file and directory durable).
        // The file spool returns as soon as the file is synced and renamed;
        // done runs later on its directory-sync thread (keep it short).
        virtual void commit_async(const Envelope& env, Destination to, std::function<void(bool)> done) {
            done(commit(env, to));
        }
        // Discards the message (also done by the destructor without commit).
        virtual void abort() = 0;
        // Reads back up to max bytes written so far, from offset (out is
        // empty at the end): checks that run before the commit read the
        // message from the spool file (DKIM on the check pool) instead of
        // a copy in memory. Not concurrently with write(). Blocks on disk.
        virtual bool read(uint64_t offset, size_t max, std::string& out) = 0;
        // Replaces the first `length` bytes written with `head` (the header
        // block without forged Authentication-Results) before the commit.
        // Rare; the file spool copies the rest into a new file. False (and
        // the message discarded) on error. Blocks on disk.
        virtual bool replace_head(uint64_t length, std::string_view head) = 0;
    };

    virtual std::unique_ptr<Writer> begin() = 0;

    // Reads a committed or held message's envelope and state.
    virtual std::optional<QueuedMessage> load(const std::string& id) = 0;
    // Reads the message bytes (without prepend) into out; false on error.
    virtual bool read_body(const std::string& id, std::string& out) = 0;
    // load() and read_body() together (the delivery path): the file spool
    // opens and reads the file once.
    virtual std::optional<QueuedMessage> load_with_body(const std::string& id, std::string& body) {
        auto m = load(id);
        if (!m || !read_body(id, body)) return std::nullopt;
        return m;
    }
    // Durably replaces the delivery state.
    virtual bool update(const std::string& id, const DeliveryState& st) = 0;
    virtual bool remove(const std::string& id) = 0;
    // remove() that does not wait for the directory fsync; sync_removals()
    // makes every earlier removal durable. A removal that is not yet
    // durable can only bring a delivered message back after a crash (a
    // duplicate, never a loss); the default is remove(), already durable.
    virtual bool remove_unsynced(const std::string& id) { return remove(id); }
    virtual bool sync_removals() { return true; }
    // sync_removals() without waiting: the file spool hands the fsync to
    // its directory-sync thread (shared with commits); safe on an I/O thread.
    virtual void sync_removals_async() { sync_removals(); }
    virtual bool hold(const std::string& id) = 0;
    virtual bool release(const std::string& id) = 0;
    // Ids of committed messages (queue/ or hold/).
    virtual std::vector<std::string> list(bool held) = 0;
    // Moves a file that failed to parse to corrupt/; returns the new path.
    virtual std::string quarantine(const std::string& id, const std::string& why) = 0;
};

// Creates the directories (0700) if needed and, with repair (the daemon at
// start), removes stale incoming/ files and finishes interrupted moves.
// Tools that run beside the daemon (mxgate queue, status) pass false.
// Throws std::runtime_error with a clear message when the spool is unusable.
std::shared_ptr<Spool> open_file_spool(const std::string& dir, bool repair = true);
std::shared_ptr<Spool> make_memory_spool();

// A new queue id: sortable by time, unique within the spool.
// Format (queue_id.cpp): 13 hex digits of microseconds since the epoch
// then 7 random hex digits, uppercase — 20 characters of [0-9A-F].
std::string new_queue_id();
// True for exactly the strings new_queue_id() can return. Every Spool
// operation that takes an id rejects others, so an id from the command
// line ("../../etc/passwd") can never name a path outside the spool.
bool is_valid_queue_id(std::string_view id);

// Pure encoders/decoders, fuzzed (tests/fuzz/envelope_fuzz.cpp).
std::string encode_envelope(const Envelope& env);
std::optional<Envelope> decode_envelope(std::string_view data);
std::string encode_state(const DeliveryState& st);
std::optional<DeliveryState> decode_state(std::string_view data);

}  // namespace mxgate::spool
