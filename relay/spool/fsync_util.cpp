// relay/spool/fsync_util.cpp — durable file helpers (see fsync_util.hpp).
#include "relay/spool/fsync_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace mxgate::spool::io {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
}

bool UniqueFd::reset(int fd) {
    bool ok = true;
    // close() is not retried on EINTR: on Linux the fd is gone either way.
    if (fd_ >= 0) ok = ::close(fd_) == 0;
    fd_ = fd;
    return ok;
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

bool pread_all(int fd, char* buf, size_t len, off_t offset) {
    while (len > 0) {
        ssize_t n = ::pread(fd, buf, len, offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (n == 0) return false;  // file shorter than expected
        buf += n;
        len -= static_cast<size_t>(n);
        offset += n;
    }
    return true;
}

bool pwrite_all(int fd, std::string_view data, off_t offset) {
    while (!data.empty()) {
        ssize_t n = ::pwrite(fd, data.data(), data.size(), offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
        offset += n;
    }
    return true;
}

bool fsync_fd(int fd) {
    int rc;
    do rc = ::fsync(fd);
    while (rc != 0 && errno == EINTR);
    return rc == 0;
}

bool fdatasync_fd(int fd) {
    int rc;
    do rc = ::fdatasync(fd);
    while (rc != 0 && errno == EINTR);
    return rc == 0;
}

GroupSync::~GroupSync() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void GroupSync::sync_async(std::function<void(bool)> done) {
    {
        std::lock_guard lock(mu_);
        if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
        waiting_.push_back(std::move(done));
    }
    cv_.notify_one();
}

bool GroupSync::sync() {
    std::mutex m;
    std::condition_variable cv;
    bool done = false, result = false;
    sync_async([&](bool ok) {
        std::lock_guard lock(m);
        result = ok;
        done = true;
        cv.notify_one();
    });
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return done; });
    return result;
}

void GroupSync::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return stop_ || !waiting_.empty(); });
        if (waiting_.empty()) return;  // stop_, nothing left to answer
        // Every request in this batch was queued before this fsync starts;
        // later ones wait for the next round.
        std::vector<std::function<void(bool)>> batch;
        batch.swap(waiting_);
        lock.unlock();
        const bool ok = fsync_fd(fd_);
        for (auto& f : batch) f(ok);
        lock.lock();
    }
}

bool read_file(int dirfd, const std::string& name, std::string& out, bool* missing) {
    if (missing) *missing = false;
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        if (missing && errno == ENOENT) *missing = true;
        return false;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    out.resize(static_cast<size_t>(st.st_size));
    return pread_all(fd.get(), out.data(), out.size(), 0);
}

bool replace_file(int dirfd, const std::string& name, std::string_view data) {
    std::string tmp = name + ".tmp";
    UniqueFd fd(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return false;
    bool ok = write_all(fd.get(), data) && fsync_fd(fd.get());
    ok = fd.reset() && ok;
    if (!ok || ::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) {
        ::unlinkat(dirfd, tmp.c_str(), 0);
        return false;
    }
    return fsync_fd(dirfd);
}

bool move_file(int from_dir, const std::string& from, int to_dir, const std::string& to) {
    if (::renameat(from_dir, from.c_str(), to_dir, to.c_str()) != 0) return false;
    // The new entry first: once it is durable the message cannot be lost,
    // at worst seen in both places (load prefers one; open repairs).
    if (!fsync_fd(to_dir)) return false;
    return from_dir == to_dir || fsync_fd(from_dir);
}

bool unlink_file(int dirfd, const std::string& name, bool missing_ok) {
    if (::unlinkat(dirfd, name.c_str(), 0) == 0) return true;
    return missing_ok && errno == ENOENT;
}

bool exists(int dirfd, const std::string& name) {
    struct stat st {};
    return ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

}  // namespace mxgate::spool::io
