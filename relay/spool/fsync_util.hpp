// relay/spool/fsync_util.hpp — small POSIX helpers for durable file
// operations (private to relay/spool): an owning fd, complete reads and
// writes, fsync, and "replace a file durably" / "move a file durably".
//
// Durability rules (SPEC §4, STYLE §4 "A 250 before the data is durable"):
// data is durable after fsync(file); a new or renamed directory entry is
// durable after fsync(directory). A failed fsync is never retried as if
// the data were safe (after an error the kernel may have dropped the dirty
// pages — "fsyncgate", PostgreSQL 2018): callers treat it as a failed
// operation.
//
// All paths are relative to directory fds opened with O_NOFOLLOW, and
// files are opened O_NOFOLLOW|O_CLOEXEC, so a symlink planted in the spool
// cannot redirect a write.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mxgate::spool::io {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() { int f = fd_; fd_ = -1; return f; }
    // Closes; returns false if close() reported an error.
    bool reset(int fd = -1);

private:
    int fd_ = -1;
};

bool write_all(int fd, std::string_view data);
// Reads exactly len bytes at offset; false on error or short file.
bool pread_all(int fd, char* buf, size_t len, off_t offset);
// Writes all of data at offset (the file offset does not move).
bool pwrite_all(int fd, std::string_view data, off_t offset);
bool fsync_fd(int fd);
// fdatasync: the data and the metadata needed to read it back (size,
// block allocation) are durable; only timestamps may be lost. Enough for
// a message file: nothing ever reads its times.
bool fdatasync_fd(int fd);
// Reads a whole small file (dirfd-relative); ENOENT sets *missing.
bool read_file(int dirfd, const std::string& name, std::string& out, bool* missing);
// Writes name.tmp, fsyncs it, renames it over name, fsyncs the directory:
// a crash leaves either the old or the new content, never a mix.
bool replace_file(int dirfd, const std::string& name, std::string_view data);
// renameat + fsync of both directories (one if they are the same).
bool move_file(int from_dir, const std::string& from, int to_dir, const std::string& to);
// unlinkat; a missing file counts as success when missing_ok.
bool unlink_file(int dirfd, const std::string& name, bool missing_ok);
bool exists(int dirfd, const std::string& name);

// Group commit for fsync of one directory. sync() returns only after an
// fsync(dir) that *started after* sync() was called has completed, and
// returns that fsync's result: exactly the guarantee of calling
// fsync_fd(dir) yourself. sync_async() gives the same guarantee to a
// callback instead of a waiting thread. One thread of its own (started on
// first use) takes every request queued so far, runs one fsync for all of
// them and then calls each back with its result, so N concurrent commits
// cost one or two fsyncs, and a committing thread does not sleep while
// the directory is synced. sync() blocks: call it off the I/O thread.
class GroupSync {
public:
    explicit GroupSync(int dirfd) : fd_(dirfd) {}
    ~GroupSync();
    GroupSync(const GroupSync&) = delete;
    GroupSync& operator=(const GroupSync&) = delete;
    bool sync();
    // done(ok) runs on the sync thread; keep it short (post elsewhere).
    void sync_async(std::function<void(bool)> done);

private:
    void run();

    int fd_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::function<void(bool)>> waiting_;  // queued after the running fsync began
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace mxgate::spool::io
