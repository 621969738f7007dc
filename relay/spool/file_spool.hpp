// relay/spool/file_spool.hpp — the on-disk Spool (private to relay/spool;
// open_file_spool() in spool.hpp is the public door). Layout, file format
// and the crash-safety argument: docs/spool.md.
//
//   file_spool.cpp       load/read_body/update/remove/hold/release/list/
//                        quarantine on an opened spool
//   file_writer.cpp      Writer: incoming/<id> → commit → queue/<id> or hold/<id>
//   file_spool_open.cpp  open_file_spool(): create dirs 0700, clean up
//                        after a crash
//
// Concurrency: writers touch only their own new file. Operations on one
// id are serialised by a striped lock (64 mutexes by id hash), so a hold
// cannot interleave with an update of the same message; different ids run
// in parallel (each waits only for its own fsyncs).
//
// SECURITY: ids are validated (is_valid_queue_id) before they become file
// names; all files are opened relative to directory fds with O_NOFOLLOW.
#pragma once

#include <array>
#include <mutex>
#include <unordered_set>

#include "relay/spool/fsync_util.hpp"
#include "relay/spool/spool.hpp"
#include "relay/spool/trailer.hpp"

namespace mxgate::spool {

class FileSpool : public Spool, public std::enable_shared_from_this<FileSpool> {
public:
    struct Dirs {
        std::string root;
        io::UniqueFd root_fd, incoming, queue, hold, corrupt, free;
    };
    explicit FileSpool(Dirs dirs) : d_(std::move(dirs)), queue_sync_(d_.queue.get()) {}

    std::unique_ptr<Writer> begin() override;
    std::optional<QueuedMessage> load(const std::string& id) override;
    bool read_body(const std::string& id, std::string& out) override;
    std::optional<QueuedMessage> load_with_body(const std::string& id, std::string& body) override;
    bool update(const std::string& id, const DeliveryState& st) override;
    bool remove(const std::string& id) override;
    bool remove_unsynced(const std::string& id) override;
    bool sync_removals() override;
    void sync_removals_async() override;
    bool hold(const std::string& id) override;
    bool release(const std::string& id) override;
    std::vector<std::string> list(bool held) override;
    std::string quarantine(const std::string& id, const std::string& why) override;

    // For FileWriter.
    int incoming_fd() const { return d_.incoming.get(); }
    int queue_fd() const { return d_.queue.get(); }
    int hold_fd() const { return d_.hold.get(); }
    // fsync(queue/), shared with concurrent callers (io::GroupSync): as
    // strong as calling fsync yourself, cheaper under concurrency.
    bool sync_queue_dir() { return queue_sync_.sync(); }
    void sync_queue_dir_async(std::function<void(bool)> done) { queue_sync_.sync_async(std::move(done)); }
    int free_fd() const { return d_.free.get(); }
    // Recycled message files (docs/spool.md "Recycling"): a delivered
    // message's file is renamed to free/ instead of unlinked, and a new
    // message is written over it in place, so ext4 allocates and frees no
    // inode or block per message. A name is handed out only after the
    // fsync(queue/) that made its removal from queue/ durable, so a crash
    // can never find new bytes under a delivered message's queue/ name.
    std::optional<std::string> take_free();
    // A writer that aborted returns its file (still in free/, still free).
    void give_back_free(std::string name);
    // Messages this process committed into queue/ and never gave a
    // .state file (update() has not run for them): delivery reads their
    // state as fresh and removal unlinks no .state, without probing the
    // disk for files that cannot exist (no other process writes .state
    // while the daemon runs; `mxgate queue` offline acts only without one).
    void note_fresh(const std::string& id);
    void forget_fresh(const std::string& id);

private:
    // A committed message file, opened and its trailer checked.
    struct Opened {
        io::UniqueFd fd;
        bool held = false;
        Trailer trailer;
    };
    // Finds id in queue/ then hold/; nullopt if absent or not a complete
    // message file (bad trailer).
    std::optional<Opened> open_message(const std::string& id);
    // The envelope of an opened message, checksum and id checked.
    std::optional<Envelope> read_envelope(const Opened& m, const std::string& id);
    // The delivery state beside a message (fresh when it has none);
    // false on a damaged state or an I/O error.
    bool read_state(QueuedMessage& msg, const std::string& id);
    std::mutex& lock_for(const std::string& id);
    int dir_fd(bool held) const { return held ? d_.hold.get() : d_.queue.get(); }

    Dirs d_;
    std::array<std::mutex, 64> locks_;
    // free/ names: usable, and renamed there but not yet covered by a
    // fsync(queue/) (sync_removals() promotes them). At most kMaxFree in
    // all; beyond that a delivered message is unlinked as before.
    static constexpr size_t kMaxFree = 2048;
    std::mutex free_mu_;
    std::vector<std::string> free_, unsynced_free_;
    std::mutex fresh_mu_;
    std::unordered_set<std::string> fresh_;
    bool is_fresh(const std::string& id);
    bool take_fresh(const std::string& id);  // erases; true when it was there
    io::GroupSync queue_sync_;
};

// Removes files a crash left behind (see docs/spool.md "At restart").
void repair_spool(FileSpool::Dirs& d);

}  // namespace mxgate::spool
