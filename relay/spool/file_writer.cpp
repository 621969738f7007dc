// relay/spool/file_writer.cpp — Spool::Writer for the file spool.
//
// begin() takes a recycled file from free/ (FileSpool::take_free: a
// delivered message's file whose removal from queue/ is durable) and
// writes over it in place, or else creates incoming/<id> (O_EXCL, 0600,
// O_CLOEXEC). write() buffers 64 KiB at a time and keeps a running FNV-1a
// of the body. commit():
//   1. append envelope record + trailer (trailer.hpp), flush; a recycled
//      file longer than the new message is truncated to it
//   2. fdatasync(file)             — body, envelope, trailer and size durable
//   3. rename incoming/<id> (or free/<old>) → queue/<id>  (hold/<id> for
//                                    Destination::hold: a held message is
//                                    never in queue/, so no crash can let
//                                    it be delivered)
//   4. fsync(queue/)               — the name is durable (an fsync that
//                                    started after our rename; concurrent
//                                    commits share it: io::GroupSync;
//                                    hold/ is rare and fsynced directly)
// and only then returns true (SPEC §4: the 250 waits for this). Any
// failure removes the file and returns false; the session answers 451.
// Before the commit, read() gives back what was written (the end-of-data
// checks: DKIM reads the message from here in blocks, on the check pool),
// and replace_head() rewrites the header block in place (forged
// Authentication-Results removed): the rest of the message moves by the
// difference, the running checksum is recomputed, and the file offset is
// put back at the new end. The file keeps its name and inode (a recycled
// one stays recycled); nothing of it is durable before commit() anyway.
// XXX If step 4 fails the rename may or may not survive a crash; we
// unlink queue/<id> so the client's retry is the only copy.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "relay/spool/file_spool.hpp"
#include "relay/spool/message_state.hpp"

namespace mxgate::spool {

namespace {

constexpr size_t kBufferSize = 64 * 1024;
constexpr int kCreateAttempts = 8;

class FileWriter final : public Spool::Writer {
public:
    FileWriter(std::shared_ptr<FileSpool> spool) : spool_(std::move(spool)) {
        if (auto name = spool_->take_free()) reuse(std::move(*name));
        if (fd_) id_ = new_queue_id();
        for (int i = 0; i < kCreateAttempts && !fd_; ++i) {
            id_ = new_queue_id();
            fd_.reset(::openat(spool_->incoming_fd(), id_.c_str(),
                               O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
            if (!fd_ && errno != EEXIST) break;
        }
        if (!fd_) done_ = true;  // every write/commit now fails
        buf_.reserve(kBufferSize);
    }
    ~FileWriter() override { abort(); }

    const std::string& id() const override { return id_; }

    bool write(std::string_view data) override {
        if (done_) return false;
        body_sum_ = fnv1a64(data, body_sum_);
        written_ += data.size();
        if (buf_.size() + data.size() > kBufferSize && !flush()) return fail();
        if (data.size() >= kBufferSize) {
            if (!io::write_all(fd_.get(), data)) return fail();
            file_size_ += data.size();
        } else {
            buf_.append(data);
        }
        return true;
    }

    bool commit(const Envelope& env, Destination to) override {
        if (!prepare(env, to)) return false;
        const int dir = dir_for(to);
        const bool synced = to == Destination::hold ? io::fsync_fd(dir) : spool_->sync_queue_dir();
        if (!synced) {
            ::unlinkat(dir, id_.c_str(), 0);
            spool_->forget_fresh(id_);
            return false;
        }
        return true;
    }

    void commit_async(const Envelope& env, Destination to, std::function<void(bool)> done) override {
        if (to == Destination::hold) {  // rare: hold/ is fsynced directly
            done(commit(env, to));
            return;
        }
        if (!prepare(env, to)) {
            done(false);
            return;
        }
        // Steps 1-3 are done; step 4 (fsync of queue/) joins the next
        // group sync, and this thread is free meanwhile.
        // (the queue/ fd, not the spool: the sync thread must never hold the
        // last reference to the spool that owns it)
        auto finish = [qfd = spool_->queue_fd(), id = id_, done = std::move(done)](bool ok) {
            // (on failure the id stays noted fresh: harmless, ids are never reused)
            if (!ok) ::unlinkat(qfd, id.c_str(), 0);
            done(ok);
        };
        spool_->sync_queue_dir_async(std::move(finish));
    }

    bool read(uint64_t offset, size_t max, std::string& out) override {
        out.clear();
        if (done_ || offset > written_) return false;
        if (!buf_.empty() && !flush()) return fail();
        const size_t n = static_cast<size_t>(std::min<uint64_t>(max, written_ - offset));
        out.resize(n);
        if (n > 0 && !io::pread_all(fd_.get(), out.data(), n, static_cast<off_t>(offset))) {
            out.clear();
            return false;
        }
        return true;
    }

    bool replace_head(uint64_t length, std::string_view head) override {
        if (done_ || length > written_) return false;
        if (!buf_.empty() && !flush()) return fail();
        // written_ == file_size_ now: every byte handed to write() is in the file.
        const uint64_t tail = written_ - length;
        const uint64_t to = head.size();
        std::string block(kBufferSize, '\0');
        // Move the tail [length, written_) to [to, to + tail): front to back
        // when it moves down (the usual case: fields removed), back to front
        // when it moves up, so no block is overwritten before it is read.
        // The checksum covers the bytes as they will be.
        uint64_t sum = fnv1a64(head, kFnvOffset);
        const bool down = to <= length;
        for (uint64_t done = 0; done < tail;) {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(kBufferSize, tail - done));
            const uint64_t rel = down ? done : tail - done - n;
            if (!io::pread_all(fd_.get(), block.data(), n, static_cast<off_t>(length + rel))) return fail();
            const std::string_view bytes(block.data(), n);
            if (to != length && !io::pwrite_all(fd_.get(), bytes, static_cast<off_t>(to + rel))) return fail();
            if (down) sum = fnv1a64(bytes, sum);
            done += n;
        }
        if (!io::pwrite_all(fd_.get(), head, 0)) return fail();
        for (uint64_t at = to; !down && at < to + tail;) {  // rare: sum in file order
            const size_t n = static_cast<size_t>(std::min<uint64_t>(kBufferSize, to + tail - at));
            if (!io::pread_all(fd_.get(), block.data(), n, static_cast<off_t>(at))) return fail();
            sum = fnv1a64(std::string_view(block.data(), n), sum);
            at += n;
        }
        // Bytes past the new end (a shorter head) are cut at the commit,
        // like a recycled file's old tail.
        old_size_ = std::max(old_size_, file_size_);
        written_ = file_size_ = to + tail;
        body_sum_ = sum;
        if (::lseek(fd_.get(), static_cast<off_t>(file_size_), SEEK_SET) < 0) return fail();
        return true;
    }

    void abort() override {
        if (done_) return;
        done_ = true;
        fd_.reset();
        if (!recycled_.empty()) {
            // Still in free/ under its old name, still free (bytes ignored).
            spool_->give_back_free(std::move(recycled_));
            return;
        }
        // Not fsynced: a crash may bring the file back, and open removes it.
        ::unlinkat(spool_->incoming_fd(), id_.c_str(), 0);
    }

private:
    int dir_for(Destination to) const { return to == Destination::hold ? spool_->hold_fd() : spool_->queue_fd(); }

    // Steps 1-3 of commit: envelope + trailer, file durable, renamed into
    // queue/ (or hold/).
    bool prepare(const Envelope& env, Destination to) {
        if (done_) return false;
        Envelope e = env;
        e.id = id_;          // the file's name is the truth
        e.size = written_;
        if (!storable(e)) return fail();
        std::string rec = encode_envelope(e);
        Trailer t;
        t.env_offset = written_;
        t.env_length = rec.size();
        t.body_sum = body_sum_;
        buf_.append(rec);
        buf_.append(encode_trailer(t, rec));
        if (!flush()) return fail();
        // The trailer must end the file: cut what an older message left.
        if (file_size_ < old_size_ && ::ftruncate(fd_.get(), static_cast<off_t>(file_size_)) != 0) return fail();
        // fdatasync: data, size and allocation durable (a recycled file of
        // unchanged size then costs no inode write; docs/spool.md).
        if (!io::fdatasync_fd(fd_.get()) || !fd_.reset()) return fail();
        // Known fresh before the name exists in queue/: no .state probes
        // for it (FileSpool::note_fresh).
        if (to == Destination::queue) spool_->note_fresh(id_);
        if (::renameat(from_dir(), from_name().c_str(), dir_for(to), id_.c_str()) != 0) {
            spool_->forget_fresh(id_);
            return fail();
        }
        done_ = true;
        return true;
    }

    // Opens free/<name> for overwriting; on any doubt the file is dropped.
    void reuse(std::string name) {
        const int dir = spool_->free_fd();
        fd_.reset(::openat(dir, name.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
        struct stat st {};
        // A second link would mean another name still shows these bytes.
        if (fd_ && ::fstat(fd_.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) {
            old_size_ = static_cast<uint64_t>(st.st_size);
            recycled_ = std::move(name);
            return;
        }
        fd_.reset();
        ::unlinkat(dir, name.c_str(), 0);
    }
    int from_dir() const { return recycled_.empty() ? spool_->incoming_fd() : spool_->free_fd(); }
    const std::string& from_name() const { return recycled_.empty() ? id_ : recycled_; }

    bool flush() {
        bool ok = io::write_all(fd_.get(), buf_);
        file_size_ += buf_.size();
        buf_.clear();
        return ok;
    }
    bool fail() {
        // After an I/O error the file's state is unknown: never reuse it.
        if (!recycled_.empty() && !done_) {
            ::unlinkat(spool_->free_fd(), recycled_.c_str(), 0);
            recycled_.clear();
        }
        abort();
        return false;
    }

    std::shared_ptr<FileSpool> spool_;
    std::string id_;
    io::UniqueFd fd_;
    std::string buf_;
    uint64_t written_ = 0;
    std::string recycled_;   // name in free/ when writing over a recycled file
    uint64_t old_size_ = 0;  // its size before (bytes past the new end are cut)
    uint64_t file_size_ = 0; // bytes written to the file so far
    uint64_t body_sum_ = kFnvOffset;
    bool done_ = false;
};

}  // namespace

std::unique_ptr<Spool::Writer> FileSpool::begin() {
    return std::make_unique<FileWriter>(shared_from_this());
}

}  // namespace mxgate::spool
