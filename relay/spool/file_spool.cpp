// relay/spool/file_spool.cpp — reading and managing committed messages in
// the file spool (file_spool.hpp; format and crash argument docs/spool.md).
//
// A message lives in exactly one of queue/ or hold/, its delivery state
// next to it as <id>.state. Moves (hold, release) rename the message
// first and the state second; load() therefore also looks for the state
// in the other directory, so a crash between the two renames never makes
// a message look fresh (which would deliver it again to recipients it has
// already reached). remove() unlinks the message first for the same
// reason: an orphan .state is harmless and open removes it.
//
// SECURITY: every public entry checks is_valid_queue_id() first; nothing
// derived from an unchecked id reaches a system call.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>

#include "relay/spool/file_spool.hpp"
#include "relay/spool/message_state.hpp"

namespace mxgate::spool {

namespace {

std::string state_name(const std::string& id) { return id + ".state"; }

}  // namespace

std::mutex& FileSpool::lock_for(const std::string& id) {
    return locks_[std::hash<std::string>{}(id) % locks_.size()];
}

std::optional<FileSpool::Opened> FileSpool::open_message(const std::string& id) {
    Opened m;
    for (bool held : {false, true}) {
        m.fd.reset(::openat(dir_fd(held), id.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (m.fd) {
            m.held = held;
            break;
        }
    }
    if (!m.fd) return std::nullopt;
    struct stat st {};
    if (::fstat(m.fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size < kTrailerSize) return std::nullopt;
    std::string tail(kTrailerSize, '\0');
    if (!io::pread_all(m.fd.get(), tail.data(), tail.size(), static_cast<off_t>(size - kTrailerSize)))
        return std::nullopt;
    auto t = decode_trailer(tail, size);
    if (!t) return std::nullopt;
    m.trailer = *t;
    return m;
}

std::optional<Envelope> FileSpool::read_envelope(const Opened& m, const std::string& id) {
    std::string rec(static_cast<size_t>(m.trailer.env_length), '\0');
    if (!io::pread_all(m.fd.get(), rec.data(), rec.size(), static_cast<off_t>(m.trailer.env_offset)))
        return std::nullopt;
    if (!envelope_sum_ok(m.trailer, rec)) return std::nullopt;
    auto env = decode_envelope(rec);
    // A file whose record names another id, or another body length, was
    // not written by this message's commit().
    if (!env || env->id != id || env->size != m.trailer.env_offset) return std::nullopt;
    return env;
}

std::optional<QueuedMessage> FileSpool::load(const std::string& id) {
    if (!is_valid_queue_id(id)) return std::nullopt;
    std::lock_guard lock(lock_for(id));
    auto m = open_message(id);
    if (!m) return std::nullopt;
    auto env = read_envelope(*m, id);
    if (!env) return std::nullopt;

    QueuedMessage msg;
    msg.held = m->held;
    msg.envelope = std::move(*env);
    if (!read_state(msg, id)) return std::nullopt;
    return msg;
}

void FileSpool::note_fresh(const std::string& id) {
    std::lock_guard lock(fresh_mu_);
    fresh_.insert(id);
}

void FileSpool::forget_fresh(const std::string& id) { take_fresh(id); }

bool FileSpool::is_fresh(const std::string& id) {
    std::lock_guard lock(fresh_mu_);
    return fresh_.count(id) != 0;
}

bool FileSpool::take_fresh(const std::string& id) {
    std::lock_guard lock(fresh_mu_);
    return fresh_.erase(id) != 0;
}

bool FileSpool::read_state(QueuedMessage& msg, const std::string& id) {
    msg.path = d_.root + (msg.held ? "/hold/" : "/queue/") + id;
    if (!msg.held && is_fresh(id)) return attach_state(msg, fresh_state(msg.envelope));
    std::string bytes;
    bool missing = false;
    bool found = io::read_file(dir_fd(msg.held), state_name(id), bytes, &missing);
    if (!found && missing)  // crash between the two renames of hold/release
        found = io::read_file(dir_fd(!msg.held), state_name(id), bytes, &missing);
    DeliveryState st;
    if (found) {
        auto decoded = decode_state(bytes);
        if (!decoded) return false;
        st = std::move(*decoded);
    } else if (missing) {
        st = fresh_state(msg.envelope);
    } else {
        return false;  // an I/O error is not "fresh"
    }
    return attach_state(msg, std::move(st));
}

// The same checks as load() + read_body(), with one open and one read of
// the whole file (body, envelope record, trailer).
std::optional<QueuedMessage> FileSpool::load_with_body(const std::string& id, std::string& body) {
    if (!is_valid_queue_id(id)) return std::nullopt;
    std::lock_guard lock(lock_for(id));
    io::UniqueFd fd;
    bool held = false;
    for (bool h : {false, true}) {
        fd.reset(::openat(dir_fd(h), id.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (fd) {
            held = h;
            break;
        }
    }
    if (!fd) return std::nullopt;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size < kTrailerSize) return std::nullopt;
    std::string all(static_cast<size_t>(size), '\0');
    if (!io::pread_all(fd.get(), all.data(), all.size(), 0)) return std::nullopt;
    fd.reset();
    const std::string_view view(all);
    auto t = decode_trailer(view.substr(size - kTrailerSize), size);
    if (!t) return std::nullopt;
    const std::string_view rec = view.substr(t->env_offset, t->env_length);
    if (!envelope_sum_ok(*t, rec)) return std::nullopt;
    auto env = decode_envelope(rec);
    if (!env || env->id != id || env->size != t->env_offset) return std::nullopt;
    if (fnv1a64(view.substr(0, t->env_offset)) != t->body_sum) return std::nullopt;

    QueuedMessage msg;
    msg.held = held;
    msg.envelope = std::move(*env);
    if (!read_state(msg, id)) return std::nullopt;
    all.resize(static_cast<size_t>(t->env_offset));
    body = std::move(all);
    return msg;
}

bool FileSpool::read_body(const std::string& id, std::string& out) {
    if (!is_valid_queue_id(id)) return false;
    std::lock_guard lock(lock_for(id));
    auto m = open_message(id);
    if (!m) return false;
    out.resize(static_cast<size_t>(m->trailer.env_offset));
    if (!io::pread_all(m->fd.get(), out.data(), out.size(), 0)) return false;
    if (fnv1a64(out) != m->trailer.body_sum) {
        out.clear();
        return false;
    }
    return true;
}

bool FileSpool::update(const std::string& id, const DeliveryState& st) {
    if (!is_valid_queue_id(id)) return false;
    std::lock_guard lock(lock_for(id));
    auto m = open_message(id);
    if (!m) return false;
    auto env = read_envelope(*m, id);
    if (!env || !storable(st, env->recipients.size())) return false;
    take_fresh(id);  // from now on it may have a .state file
    if (!io::replace_file(dir_fd(m->held), state_name(id), encode_state(st))) return false;
    // A leftover from a crash mid-move would be shadowed anyway; tidy it.
    io::unlink_file(dir_fd(!m->held), state_name(id), true);
    return true;
}

bool FileSpool::remove(const std::string& id) {
    if (!remove_unsynced(id)) return false;
    sync_removals();
    return true;
}

std::optional<std::string> FileSpool::take_free() {
    std::lock_guard lock(free_mu_);
    if (free_.empty()) return std::nullopt;
    std::string name = std::move(free_.back());  // last freed: its pages are likely cached
    free_.pop_back();
    return name;
}

void FileSpool::give_back_free(std::string name) {
    std::lock_guard lock(free_mu_);
    free_.push_back(std::move(name));
}

bool FileSpool::sync_removals() {
    std::vector<std::string> batch;
    {
        std::lock_guard lock(free_mu_);
        batch.swap(unsynced_free_);
    }
    // Every name in batch was renamed out of queue/ before this fsync starts.
    const bool ok = sync_queue_dir();
    std::lock_guard lock(free_mu_);
    if (ok) {
        free_.insert(free_.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
    } else {
        // Not known to be durable: never reuse them (open empties free/).
        unsynced_free_.clear();
    }
    return ok;
}

void FileSpool::sync_removals_async() {
    auto batch = std::make_shared<std::vector<std::string>>();
    {
        std::lock_guard lock(free_mu_);
        if (unsynced_free_.empty()) return;
        batch->swap(unsynced_free_);
    }
    // Runs on queue_sync_'s thread, which ~FileSpool joins before free_
    // goes away (queue_sync_ is the last member): `this` outlives it.
    queue_sync_.sync_async([this, batch](bool ok) {
        if (!ok) return;  // not known to be durable: never reused (open empties free/)
        std::lock_guard lock(free_mu_);
        free_.insert(free_.end(), std::make_move_iterator(batch->begin()), std::make_move_iterator(batch->end()));
    });
}

// Moves a queue/ message to free/ for reuse (or unlinks it when free/ is
// full or the rename fails); a message in hold/ is unlinked and synced
// here (rare), one in queue/ by the caller's sync_removals(), shared with
// other removals and commits.
bool FileSpool::remove_unsynced(const std::string& id) {
    if (!is_valid_queue_id(id)) return false;
    std::lock_guard lock(lock_for(id));
    const bool fresh = take_fresh(id);  // no .state file to remove
    for (bool held : {false, true}) {
        int dir = dir_fd(held);
        bool recycled = false;
        if (!held) {
            std::lock_guard fl(free_mu_);
            if (free_.size() + unsynced_free_.size() < kMaxFree &&
                ::renameat(dir, id.c_str(), d_.free.get(), id.c_str()) == 0) {
                unsynced_free_.push_back(id);
                recycled = true;
            }
        }
        if (!recycled && !io::unlink_file(dir, id, false)) continue;
        if (!fresh || held) {
            io::unlink_file(dir, state_name(id), true);
            io::unlink_file(dir_fd(!held), state_name(id), true);
        }
        if (held) io::fsync_fd(dir);
        return true;
    }
    return false;
}

namespace {

// Moves message then state from one directory to the other.
bool move_message(int from, int to, const std::string& id) {
    if (!io::exists(from, id)) return false;
    if (!io::move_file(from, id, to, id)) return false;
    std::string st = state_name(id);
    if (io::exists(from, st) && !io::move_file(from, st, to, st)) return false;
    return true;
}

}  // namespace

bool FileSpool::hold(const std::string& id) {
    if (!is_valid_queue_id(id)) return false;
    std::lock_guard lock(lock_for(id));
    take_fresh(id);
    return move_message(d_.queue.get(), d_.hold.get(), id);
}

bool FileSpool::release(const std::string& id) {
    if (!is_valid_queue_id(id)) return false;
    std::lock_guard lock(lock_for(id));
    take_fresh(id);
    return move_message(d_.hold.get(), d_.queue.get(), id);
}

std::vector<std::string> FileSpool::list(bool held) {
    std::vector<std::string> ids;
    int fd = ::openat(dir_fd(held), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ids;
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
        ::close(fd);
        return ids;
    }
    while (struct dirent* e = ::readdir(dir)) {
        std::string name = e->d_name;
        if (is_valid_queue_id(name)) ids.push_back(std::move(name));
    }
    ::closedir(dir);
    std::sort(ids.begin(), ids.end());  // ids sort by arrival time
    return ids;
}

std::string FileSpool::quarantine(const std::string& id, const std::string& why) {
    if (!is_valid_queue_id(id)) return {};
    std::lock_guard lock(lock_for(id));
    take_fresh(id);
    int corrupt = d_.corrupt.get();
    bool moved = false;
    for (bool held : {false, true}) {
        int dir = dir_fd(held);
        if (!moved && io::exists(dir, id)) moved = io::move_file(dir, id, corrupt, id);
        std::string st = state_name(id);
        if (io::exists(dir, st)) io::move_file(dir, st, corrupt, st);
    }
    if (!moved) return {};
    io::replace_file(corrupt, id + ".why", why + "\n");
    return d_.root + "/corrupt/" + id;
}

}  // namespace mxgate::spool
