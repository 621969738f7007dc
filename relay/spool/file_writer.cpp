// relay/spool/file_writer.cpp — Spool::Writer for the file spool.
//
// begin() creates incoming/<id> (O_EXCL, 0600, O_CLOEXEC). write() buffers
// 64 KiB at a time and keeps a running FNV-1a of the body. commit():
//   1. append envelope record + trailer (trailer.hpp), flush
//   2. fsync(file)                 — body, envelope and trailer durable
//   3. rename incoming/<id> → queue/<id>  (hold/<id> for Destination::hold:
//                                    a held message is never in queue/,
//                                    so no crash can let it be delivered)
//   4. fsync(queue/)               — the name is durable (an fsync that
//                                    started after our rename; concurrent
//                                    commits share it: io::GroupSync;
//                                    hold/ is rare and fsynced directly)
// and only then returns true (SPEC §4: the 250 waits for this). Any
// failure removes the file and returns false; the session answers 451.
// XXX If step 4 fails the rename may or may not survive a crash; we
// unlink queue/<id> so the client's retry is the only copy.
#include <fcntl.h>
#include <unistd.h>

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
        for (int i = 0; i < kCreateAttempts && !fd_; ++i) {
            id_ = new_queue_id();
            fd_.reset(::openat(spool_->incoming_fd(), id_.c_str(),
                               O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
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
        } else {
            buf_.append(data);
        }
        return true;
    }

    bool commit(const Envelope& env, Destination to) override {
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
        if (!flush() || !io::fsync_fd(fd_.get()) || !fd_.reset()) return fail();
        const bool held = to == Destination::hold;
        const int dir = held ? spool_->hold_fd() : spool_->queue_fd();
        if (::renameat(spool_->incoming_fd(), id_.c_str(), dir, id_.c_str()) != 0) return fail();
        done_ = true;
        const bool synced = held ? io::fsync_fd(dir) : spool_->sync_queue_dir();
        if (!synced) {
            ::unlinkat(dir, id_.c_str(), 0);
            return false;
        }
        return true;
    }

    void abort() override {
        if (done_) return;
        done_ = true;
        fd_.reset();
        // Not fsynced: a crash may bring the file back, and open removes it.
        ::unlinkat(spool_->incoming_fd(), id_.c_str(), 0);
    }

private:
    bool flush() {
        bool ok = io::write_all(fd_.get(), buf_);
        buf_.clear();
        return ok;
    }
    bool fail() {
        abort();
        return false;
    }

    std::shared_ptr<FileSpool> spool_;
    std::string id_;
    io::UniqueFd fd_;
    std::string buf_;
    uint64_t written_ = 0;
    uint64_t body_sum_ = kFnvOffset;
    bool done_ = false;
};

}  // namespace

std::unique_ptr<Spool::Writer> FileSpool::begin() {
    return std::make_unique<FileWriter>(shared_from_this());
}

}  // namespace mxgate::spool
