// tests/unit/spool/file_spool_test.cpp — the file spool: commit/load round
// trips, damaged files never load, quarantine, restart clean-up,
// hold/release, id validation and permissions.
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "relay/spool/spool.hpp"
#include "spool_test_util.hpp"

using namespace mxgate::spool;
using spooltest::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kBody = "From: a@example.net\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody line\r\n";

std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> v;
    for (auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

TEST_CASE("file spool: commit then load and read_body round trip", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    auto w = sp->begin();
    std::string id = w->id();
    REQUIRE(is_valid_queue_id(id));
    // Writes bigger than the 64 KiB buffer and many small ones.
    std::string big(200 * 1024, 'x');
    REQUIRE(w->write(kBody));
    REQUIRE(w->write(big));
    for (int i = 0; i < 1000; ++i) REQUIRE(w->write("line\r\n"));
    CHECK(fs::exists(t / ("incoming/" + id)));
    CHECK_FALSE(fs::exists(t / ("queue/" + id)));
    Envelope env = spooltest::sample_envelope(3);
    REQUIRE(w->commit(env));
    CHECK_FALSE(fs::exists(t / ("incoming/" + id)));
    CHECK(fs::exists(t / ("queue/" + id)));
    CHECK_FALSE(w->write("more"));  // committed writers are finished
    w.reset();                      // destructor must not remove a committed file
    CHECK(fs::exists(t / ("queue/" + id)));

    auto m = sp->load(id);
    REQUIRE(m);
    CHECK(m->envelope.id == id);
    CHECK(m->envelope.sender == env.sender);
    CHECK(m->envelope.recipients.size() == 3);
    CHECK(m->envelope.prepend == env.prepend);
    CHECK(m->envelope.size == kBody.size() + big.size() + 6000);
    CHECK(m->state.rcpt_state == std::vector<RcptState>(3, RcptState::pending));
    CHECK(m->state.attempts == 0);
    CHECK_FALSE(m->held);
    CHECK(m->path == t / ("queue/" + id));
    CHECK(m->body_offset == 0);
    std::string body;
    REQUIRE(sp->read_body(id, body));
    CHECK(body.size() == m->envelope.size);
    CHECK(body.substr(0, kBody.size()) == kBody);
    CHECK(sp->list(false) == std::vector<std::string>{id});
    CHECK(sp->list(true).empty());
}

TEST_CASE("file spool: an empty body commits and loads", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string id = spooltest::commit_one(*sp, "");
    auto m = sp->load(id);
    REQUIRE(m);
    CHECK(m->envelope.size == 0);
    std::string body = "junk";
    REQUIRE(sp->read_body(id, body));
    CHECK(body.empty());
}

TEST_CASE("file spool: files, directories and permissions", "[file][security]") {
    TempDir t;
    std::string root = t / "spool";
    auto sp = open_file_spool(root);
    for (const char* d : {"", "/incoming", "/queue", "/hold", "/corrupt", "/state"}) {
        INFO(d);
        CHECK(spooltest::mode_of(root + d) == 0700);
    }
    ::umask(022);
    std::string id = spooltest::commit_one(*sp, kBody);
    CHECK(spooltest::mode_of(root + "/queue/" + id) == 0600);
    DeliveryState st;
    st.rcpt_state.assign(2, RcptState::pending);
    REQUIRE(sp->update(id, st));
    CHECK(spooltest::mode_of(root + "/queue/" + id + ".state") == 0600);

    // A too-open existing spool is tightened on open.
    fs::permissions(root + "/queue", fs::perms::all);
    open_file_spool(root);
    CHECK(spooltest::mode_of(root + "/queue") == 0700);
}

TEST_CASE("file spool: a symlinked subdirectory is refused", "[file][security]") {
    TempDir t;
    fs::create_directories(t / "elsewhere");
    fs::create_directories(t / "spool");
    fs::create_directory_symlink(t / "elsewhere", t / "spool/queue");
    CHECK_THROWS_AS(open_file_spool(t / "spool"), std::runtime_error);
    CHECK_THROWS_AS(open_file_spool(""), std::runtime_error);
}

TEST_CASE("file spool: ids are validated before touching the disk", "[file][security]") {
    TempDir t;
    auto sp = open_file_spool(t / "spool");
    spooltest::write_all(t / "secret", "not mail");
    std::string good = spooltest::commit_one(*sp, kBody);
    for (std::string bad : {std::string("../../secret"), std::string("../secret"), std::string(""),
                            good + ".state", good.substr(1), "a" + good.substr(1), good + "0",
                            std::string("/etc/passwd"), std::string(20, '.')}) {
        INFO(bad);
        CHECK_FALSE(sp->load(bad));
        std::string out;
        CHECK_FALSE(sp->read_body(bad, out));
        CHECK_FALSE(sp->update(bad, DeliveryState{}));
        CHECK_FALSE(sp->remove(bad));
        CHECK_FALSE(sp->hold(bad));
        CHECK_FALSE(sp->release(bad));
        CHECK(sp->quarantine(bad, "x").empty());
    }
    CHECK(fs::exists(t / "secret"));
    CHECK(sp->load(good));
}

TEST_CASE("file spool: a truncated message file never loads, at any length", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string id = spooltest::commit_one(*sp, kBody);
    std::string path = t / ("queue/" + id);
    std::string full = spooltest::read_all(path);
    REQUIRE(sp->load(id));
    for (size_t n = 0; n < full.size(); ++n) {
        spooltest::write_all(path, full.substr(0, n));
        INFO("length " << n << " of " << full.size());
        REQUIRE_FALSE(sp->load(id));
        std::string body;
        REQUIRE_FALSE(sp->read_body(id, body));
    }
    spooltest::write_all(path, full);
    CHECK(sp->load(id));
}

TEST_CASE("file spool: trailing garbage and flipped bytes are detected", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string id = spooltest::commit_one(*sp, kBody);
    std::string path = t / ("queue/" + id);
    std::string full = spooltest::read_all(path);

    spooltest::write_all(path, full + "X");
    CHECK_FALSE(sp->load(id));
    spooltest::write_all(path, full + full);
    CHECK_FALSE(sp->load(id));

    // Any flipped byte after the body: envelope or trailer is checksummed.
    for (size_t i = kBody.size(); i < full.size(); ++i) {
        std::string bad = full;
        bad[i] = static_cast<char>(bad[i] ^ 1);
        spooltest::write_all(path, bad);
        INFO("offset " << i);
        REQUIRE_FALSE(sp->load(id));
    }
    // A flipped body byte: load still works (envelope intact) but the body
    // checksum refuses to hand out the damaged bytes.
    std::string bad = full;
    bad[3] ^= 1;
    spooltest::write_all(path, bad);
    CHECK(sp->load(id));
    std::string body;
    CHECK_FALSE(sp->read_body(id, body));
}

TEST_CASE("file spool: a message file renamed to another id is refused", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string a = spooltest::commit_one(*sp, kBody);
    std::string b = new_queue_id();
    fs::copy_file(t / ("queue/" + a), t / ("queue/" + b));
    CHECK(sp->load(a));
    CHECK_FALSE(sp->load(b));
}

TEST_CASE("file spool: corrupt state fails load and is quarantined with a reason", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string id = spooltest::commit_one(*sp, kBody);
    spooltest::write_all(t / ("queue/" + id + ".state"), "MXST\x01garbage");
    // A running spool writes .state files only through update(): one that
    // appears behind its back is found at the next start.
    sp = open_file_spool(t.path());
    REQUIRE_FALSE(sp->load(id));
    std::string where = sp->quarantine(id, "state: cannot decode");
    CHECK(where == t / ("corrupt/" + id));
    CHECK(fs::exists(t / ("corrupt/" + id)));
    CHECK(fs::exists(t / ("corrupt/" + id + ".state")));
    CHECK(spooltest::read_all(t / ("corrupt/" + id + ".why")) == "state: cannot decode\n");
    CHECK(names_in(t / "queue").empty());
    CHECK(sp->list(false).empty());
    CHECK(sp->quarantine(id, "again").empty());  // nothing left to move
}

TEST_CASE("file spool: a state with the wrong recipient count fails load", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string id = spooltest::commit_one(*sp, kBody, spooltest::sample_envelope(2));
    DeliveryState st;
    st.rcpt_state.assign(3, RcptState::pending);
    CHECK_FALSE(sp->update(id, st));  // refused up front
    spooltest::write_all(t / ("queue/" + id + ".state"), encode_state(st));
    sp = open_file_spool(t.path());   // (found at the next start, as above)
    CHECK_FALSE(sp->load(id));        // and caught if it got there anyway
}

TEST_CASE("file spool: update replaces the state and load mirrors it", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string id = spooltest::commit_one(*sp, kBody, spooltest::sample_envelope(2));
    DeliveryState st;
    st.rcpt_state = {RcptState::delivered, RcptState::pending};
    st.rcpt_reply = {"250 2.0.0 ok", "451 4.3.0 later"};
    st.attempts = 1;
    st.next_attempt = 1700000300;
    st.last_error = "451 4.3.0 later";
    REQUIRE(sp->update(id, st));
    auto m = sp->load(id);
    REQUIRE(m);
    CHECK(m->state.rcpt_state == st.rcpt_state);
    CHECK(m->state.attempts == 1);
    CHECK(m->envelope.recipients[0].state == RcptState::delivered);
    CHECK(m->envelope.recipients[1].last_reply == "451 4.3.0 later");
    CHECK_FALSE(fs::exists(t / ("queue/" + id + ".state.tmp")));

    DeliveryState neg = st;
    neg.attempts = -3;
    CHECK_FALSE(sp->update(id, neg));  // would not load back
    CHECK(sp->load(id)->state.attempts == 1);
}

TEST_CASE("file spool: commit refuses an envelope that would not load back", "[file][security]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    auto w = sp->begin();
    std::string id = w->id();
    REQUIRE(w->write(kBody));
    Envelope e = spooltest::sample_envelope();
    e.sender = "a@b>\r\nRCPT TO:<victim@example.com";
    CHECK_FALSE(w->commit(e));
    CHECK_FALSE(fs::exists(t / ("incoming/" + id)));
    CHECK_FALSE(fs::exists(t / ("queue/" + id)));
}

TEST_CASE("file spool: abort and destruction without commit remove the file", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    {
        auto w = sp->begin();
        REQUIRE(w->write(kBody));
        CHECK(names_in(t / "incoming").size() == 1);
    }
    CHECK(names_in(t / "incoming").empty());
    auto w = sp->begin();
    REQUIRE(w->write(kBody));
    w->abort();
    CHECK(names_in(t / "incoming").empty());
    CHECK_FALSE(w->write("x"));
    CHECK_FALSE(w->commit(spooltest::sample_envelope()));
    CHECK(names_in(t / "queue").empty());
}

TEST_CASE("file spool: open removes what a crash left behind", "[file]") {
    TempDir t;
    std::string root = t / "spool";
    std::string keep, held;
    {
        auto sp = open_file_spool(root);
        keep = spooltest::commit_one(*sp, kBody);
        held = spooltest::commit_one(*sp, kBody);
        DeliveryState st;
        st.rcpt_state = {RcptState::delivered, RcptState::pending};
        REQUIRE(sp->update(held, st));
        REQUIRE(sp->update(keep, st));
        REQUIRE(sp->hold(held));
    }
    std::string stale = new_queue_id();
    spooltest::write_all(root + "/incoming/" + stale, "half a message");         // crash mid-receive
    spooltest::write_all(root + "/queue/" + keep + ".state.tmp", "MXST");       // crash mid-update
    std::string gone = new_queue_id();
    spooltest::write_all(root + "/queue/" + gone + ".state", "orphan");         // crash mid-remove
    // Crash between the two renames of release(): message back in queue/,
    // state still in hold/.
    fs::rename(root + "/hold/" + held, root + "/queue/" + held);

    auto sp = open_file_spool(root);
    CHECK(names_in(root + "/incoming").empty());
    CHECK(names_in(root + "/queue") ==
          std::vector<std::string>{std::min(keep, held), std::min(keep, held) + ".state", std::max(keep, held),
                                   std::max(keep, held) + ".state"});
    CHECK(names_in(root + "/hold").empty());
    auto m = sp->load(held);
    REQUIRE(m);
    CHECK(m->state.rcpt_state[0] == RcptState::delivered);  // not re-delivered
}

TEST_CASE("file spool: load finds the state across a crash mid-hold", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string id = spooltest::commit_one(*sp, kBody);
    DeliveryState st;
    st.rcpt_state = {RcptState::delivered, RcptState::failed};
    REQUIRE(sp->update(id, st));
    fs::rename(t / ("queue/" + id), t / ("hold/" + id));  // message moved, state not yet
    auto m = sp->load(id);
    REQUIRE(m);
    CHECK(m->held);
    CHECK(m->state.rcpt_state == st.rcpt_state);
}

TEST_CASE("file spool: hold, release, remove, list", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string a = spooltest::commit_one(*sp, kBody);
    std::string b = spooltest::commit_one(*sp, kBody);
    REQUIRE(a < b);  // time-sortable
    DeliveryState st;
    st.rcpt_state = {RcptState::delivered, RcptState::pending};
    REQUIRE(sp->update(a, st));

    CHECK(sp->list(false) == std::vector<std::string>{a, b});
    REQUIRE(sp->hold(a));
    CHECK_FALSE(sp->hold(a));  // already held
    CHECK(sp->list(false) == std::vector<std::string>{b});
    CHECK(sp->list(true) == std::vector<std::string>{a});
    CHECK(fs::exists(t / ("hold/" + a + ".state")));
    auto m = sp->load(a);
    REQUIRE(m);
    CHECK(m->held);
    CHECK(m->path == t / ("hold/" + a));
    CHECK(m->state.rcpt_state[0] == RcptState::delivered);
    st.attempts = 4;
    REQUIRE(sp->update(a, st));  // updates a held message in place
    CHECK(fs::exists(t / ("hold/" + a + ".state")));
    CHECK_FALSE(fs::exists(t / ("queue/" + a + ".state")));

    CHECK_FALSE(sp->release(b));  // not held
    REQUIRE(sp->release(a));
    CHECK(sp->list(true).empty());
    m = sp->load(a);
    REQUIRE(m);
    CHECK_FALSE(m->held);
    CHECK(m->state.attempts == 4);

    REQUIRE(sp->remove(a));
    CHECK_FALSE(sp->remove(a));
    CHECK_FALSE(sp->load(a));
    CHECK(names_in(t / "queue") == std::vector<std::string>{b});
    REQUIRE(sp->hold(b));
    REQUIRE(sp->remove(b));
    CHECK(names_in(t / "hold").empty());
}

TEST_CASE("file spool: commit to hold/ never passes through queue/", "[file][hold]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    // Every name that appears in queue/ during the commit is seen here: a
    // commit into queue/ followed by a move (the old quarantine: hold) would
    // leave a window in which a crash lets the message be delivered.
    int in = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    REQUIRE(in >= 0);
    REQUIRE(::inotify_add_watch(in, (t / "queue").c_str(), IN_CREATE | IN_MOVED_TO) >= 0);

    auto w = sp->begin();
    std::string id = w->id();
    REQUIRE(w->write(kBody));
    REQUIRE(w->commit(spooltest::sample_envelope(2), Destination::hold));
    char buf[4096];
    ssize_t n = ::read(in, buf, sizeof buf);
    CHECK(n < 0);  // EAGAIN: no event in queue/
    CHECK(errno == EAGAIN);

    CHECK(names_in(t / "queue").empty());
    CHECK(names_in(t / "incoming").empty());
    CHECK(names_in(t / "hold") == std::vector<std::string>{id});
    CHECK(sp->list(false).empty());
    CHECK(sp->list(true) == std::vector<std::string>{id});
    auto m = sp->load(id);
    REQUIRE(m);
    CHECK(m->held);
    CHECK(m->path == t / ("hold/" + id));
    std::string body;
    REQUIRE(sp->read_body(id, body));
    CHECK(body == kBody);

    // A restart keeps it held; release hands it to queue/ (now an event).
    sp.reset();
    sp = open_file_spool(t.path());
    CHECK(sp->list(true) == std::vector<std::string>{id});
    REQUIRE(sp->release(id));
    CHECK(sp->list(false) == std::vector<std::string>{id});
    n = ::read(in, buf, sizeof buf);
    CHECK(n > 0);  // the watch does see names arriving in queue/
    ::close(in);

    // The default destination is still queue/.
    std::string q = spooltest::commit_one(*sp, kBody);
    CHECK(sp->list(false) == std::vector<std::string>{std::min(id, q), std::max(id, q)});
}

TEST_CASE("file spool: list ignores foreign files", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string a = spooltest::commit_one(*sp, kBody);
    spooltest::write_all(t / "queue/README", "x");
    spooltest::write_all(t / ("queue/" + a + ".state.tmp"), "x");
    spooltest::write_all(t / "queue/0123456789abcdef0123", "lowercase is not an id");
    CHECK(sp->list(false) == std::vector<std::string>{a});
}

// Recycling (docs/spool.md "Recycling"): a delivered message's file is
// reused for a new one, only after sync_removals(), and a shorter message
// written over a longer one loads exactly (its trailer ends the file).
TEST_CASE("file spool: delivered files are recycled after sync_removals", "[file][recycle]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    const std::string long_body = kBody + std::string(10000, 'y') + "\r\n";
    auto commit = [&](const std::string& body) {
        auto w = sp->begin();
        REQUIRE(w->write(body));
        REQUIRE(w->commit(spooltest::sample_envelope(1)));
        return w->id();
    };
    const std::string first = commit(long_body);
    struct stat st1 {};
    REQUIRE(::stat((t / ("queue/" + first)).c_str(), &st1) == 0);

    REQUIRE(sp->remove_unsynced(first));
    CHECK(names_in(t / "queue").empty());
    CHECK(names_in(t / "free") == std::vector<std::string>{first});
    // Not yet durable out of queue/: a new message gets a fresh file.
    const std::string second = commit(kBody);
    CHECK(names_in(t / "free") == std::vector<std::string>{first});
    REQUIRE(sp->sync_removals());
    // Now reusable: the next message is written over it, in place.
    const std::string third = commit(kBody);
    CHECK(names_in(t / "free").empty());
    struct stat st3 {};
    REQUIRE(::stat((t / ("queue/" + third)).c_str(), &st3) == 0);
    CHECK(st3.st_ino == st1.st_ino);
    CHECK(static_cast<size_t>(st3.st_size) < long_body.size());  // the old tail is cut
    for (const auto& id : {second, third}) {
        auto m = sp->load(id);
        REQUIRE(m);
        std::string body;
        REQUIRE(sp->read_body(id, body));
        CHECK(body == kBody);
    }
    CHECK_FALSE(sp->load(first));

    // An aborted writer gives its recycled file back, still in free/.
    REQUIRE(sp->remove_unsynced(third));
    REQUIRE(sp->sync_removals());
    {
        auto w = sp->begin();
        REQUIRE(w->write("partial"));
    }
    CHECK(names_in(t / "free") == std::vector<std::string>{third});
    const std::string fourth = commit(long_body);
    std::string body;
    REQUIRE(sp->read_body(fourth, body));
    CHECK(body == long_body);

    // A restart empties free/ (repair), like incoming/.
    REQUIRE(sp->remove_unsynced(fourth));
    REQUIRE(sp->sync_removals());
    sp.reset();
    sp = open_file_spool(t.path());
    CHECK(names_in(t / "free").empty());
    CHECK(sp->load(second));
}

TEST_CASE("file spool: load_with_body equals load + read_body and refuses damage", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    auto w = sp->begin();
    const std::string big = kBody + std::string(70 * 1024, 'z') + "\r\n";
    REQUIRE(w->write(big));
    REQUIRE(w->commit(spooltest::sample_envelope(2)));
    const std::string id = w->id();
    std::string body;
    auto m = sp->load_with_body(id, body);
    REQUIRE(m);
    auto l = sp->load(id);
    REQUIRE(l);
    CHECK(body == big);
    CHECK(m->envelope.id == l->envelope.id);
    CHECK(m->envelope.recipients.size() == 2);
    CHECK(m->path == l->path);
    CHECK(m->state.rcpt_state == l->state.rcpt_state);
    // One flipped body byte: the checksum refuses it, like read_body().
    {
        const std::string path = t / ("queue/" + id);
        int fd = ::open(path.c_str(), O_WRONLY);
        REQUIRE(fd >= 0);
        REQUIRE(::pwrite(fd, "Q", 1, 100) == 1);
        ::close(fd);
    }
    std::string again;
    CHECK_FALSE(sp->load_with_body(id, again));
    CHECK_FALSE(sp->load_with_body("../../etc/passwd", again));
}

TEST_CASE("file spool: commit_async calls back after the directory sync, many at once", "[file]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    constexpr int kN = 40;
    std::mutex m;
    std::condition_variable cv;
    int done = 0, ok = 0;
    std::vector<std::string> ids;
    std::vector<std::thread> threads;
    for (int i = 0; i < kN; ++i) {
        auto w = std::shared_ptr<Spool::Writer>(sp->begin());
        REQUIRE(w->write(kBody));
        ids.push_back(w->id());
        threads.emplace_back([&, w] {
            w->commit_async(spooltest::sample_envelope(1), Destination::queue, [&, w](bool good) {
                // By now the file must be in queue/ (renamed before the sync).
                const bool there = fs::exists(t / ("queue/" + w->id()));
                std::lock_guard lock(m);
                ok += good && there;
                ++done;
                cv.notify_all();
            });
        });
    }
    for (auto& th : threads) th.join();
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return done == kN; }));
    CHECK(ok == kN);
    lock.unlock();
    for (const auto& id : ids) {
        std::string body;
        CHECK(sp->load_with_body(id, body));
        CHECK(body == kBody);
    }
    CHECK(names_in(t / "incoming").empty());
}

TEST_CASE("file spool: a message committed by this process has no .state to probe or remove", "[file][fresh]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string a = spooltest::commit_one(*sp, kBody, spooltest::sample_envelope(2));
    std::string b = spooltest::commit_one(*sp, kBody, spooltest::sample_envelope(2));
    auto m = sp->load(a);
    REQUIRE(m);
    CHECK(m->state.rcpt_state == std::vector<RcptState>{RcptState::pending, RcptState::pending});
    // Once update() has run, the state on disk is what load() returns.
    DeliveryState st;
    st.rcpt_state = {RcptState::delivered, RcptState::pending};
    st.rcpt_reply = {"250 ok", "451 later"};
    st.attempts = 1;
    REQUIRE(sp->update(b, st));
    auto mb = sp->load(b);
    REQUIRE(mb);
    CHECK(mb->state.rcpt_state == st.rcpt_state);
    // Removal leaves no .state behind in either case.
    REQUIRE(sp->remove(a));
    REQUIRE(sp->remove(b));
    CHECK(names_in(t / "queue").empty());
    // After a restart, a message with a state file is read from disk again.
    std::string c = spooltest::commit_one(*sp, kBody, spooltest::sample_envelope(2));
    REQUIRE(sp->update(c, st));
    sp = open_file_spool(t.path());
    auto mc = sp->load(c);
    REQUIRE(mc);
    CHECK(mc->state.rcpt_state == st.rcpt_state);
    REQUIRE(sp->remove(c));
    CHECK(names_in(t / "queue").empty());
}

TEST_CASE("spool writers: read back before commit, replace the header block", "[file][memory][readback]") {
    TempDir t;
    auto fsp = open_file_spool(t.path());
    auto msp = make_memory_spool();
    const std::string head = "Authentication-Results: forged\r\nFrom: a@example.net\r\n\r\n";
    std::string body(300 * 1024, 'b');  // more than the writer's buffer
    for (size_t i = 0; i < body.size(); i += 1000) body[i] = static_cast<char>('0' + (i / 1000) % 10);
    for (auto* sp : {fsp.get(), msp.get()}) {
        auto w = sp->begin();
        REQUIRE(w->write(head));
        REQUIRE(w->write(body.substr(0, 100)));  // still in the buffer
        std::string got;
        REQUIRE(w->read(0, 1 << 20, got));
        CHECK(got == head + body.substr(0, 100));
        REQUIRE(w->write(body.substr(100)));
        // Blocks, as DKIM reads them.
        std::string all;
        for (uint64_t at = 0;;) {
            REQUIRE(w->read(at, 4096, got));
            if (got.empty()) break;
            all += got;
            at += got.size();
        }
        CHECK(all == head + body);
        CHECK_FALSE(w->read(all.size() + 1, 10, got));  // past the end

        const std::string clean = "From: a@example.net\r\n\r\n";
        REQUIRE(w->replace_head(head.size(), clean));
        REQUIRE(w->read(0, 1 << 20, got));
        CHECK(got == clean + body);
        REQUIRE(w->write("tail\r\n"));
        REQUIRE(w->commit(spooltest::sample_envelope(1)));
        auto m = sp->load(w->id());
        REQUIRE(m);  // the checksum covers the rewritten bytes
        CHECK(m->envelope.size == clean.size() + body.size() + 6);
        std::string stored;
        REQUIRE(sp->read_body(w->id(), stored));
        CHECK(stored == clean + body + "tail\r\n");
        CHECK_FALSE(w->read(0, 10, got));  // committed writers are finished
    }
    CHECK(names_in(t / "incoming").empty());  // no .head file left behind
}

// replace_head() works in place: on a recycled file (written over a longer
// delivered message, whose old tail must be cut), with a longer head (the
// tail moves up, back to front), with an empty tail, and it refuses a
// length past what was written.
TEST_CASE("file spool: replace_head in place, recycled file, both directions", "[file][readback][recycle]") {
    TempDir t;
    auto sp = open_file_spool(t.path());
    std::string body;  // 3 writer buffers and a bit, every position distinct
    for (size_t i = 0; body.size() < 3 * 64 * 1024 + 777; ++i) body += std::to_string(i) + "\r\n";
    const std::string head = "Authentication-Results: x; forged\r\nX-A: 1\r\nFrom: a@example.net\r\n\r\n";
    auto commit_via = [&](const std::string& first, size_t length, const std::string& replacement) {
        auto w = sp->begin();
        REQUIRE(w->write(first));
        REQUIRE(w->write(body));
        REQUIRE(w->replace_head(length, replacement));
        REQUIRE(w->commit(spooltest::sample_envelope(1)));
        std::string stored;
        auto m = sp->load_with_body(w->id(), stored);
        REQUIRE(m);  // checksum and trailer agree with the rewritten file
        CHECK(m->envelope.size == stored.size());
        return std::make_pair(w->id(), stored);
    };
    // A long message, delivered and recycled.
    auto [old_id, old_stored] = commit_via(head + std::string(500 * 1024, 'o'), 0, "");
    REQUIRE(sp->remove_unsynced(old_id));
    REQUIRE(sp->sync_removals());
    REQUIRE(names_in(t / "free").size() == 1);
    struct stat before {};
    REQUIRE(::stat((t / ("free/" + old_id)).c_str(), &before) == 0);

    SECTION("shorter head over a recycled file") {
        const std::string clean = "X-A: 1\r\nFrom: a@example.net\r\n\r\n";
        auto [id, stored] = commit_via(head, head.size(), clean);
        CHECK(stored == clean + body);
        struct stat after {};
        REQUIRE(::stat((t / ("queue/" + id)).c_str(), &after) == 0);
        CHECK(after.st_ino == before.st_ino);  // the same file, written in place
        CHECK(names_in(t / "free").empty());
    }
    SECTION("longer head: the tail moves up") {
        const std::string longer = "X-Longer: " + std::string(100 * 1024, 'L') + "\r\n" + head;
        auto [id, stored] = commit_via(head, head.size(), longer);
        CHECK(stored == longer + body);
    }
    SECTION("the whole message is the head") {
        auto w = sp->begin();
        REQUIRE(w->write(head));
        REQUIRE(w->replace_head(head.size(), "From: a@example.net\r\n"));
        REQUIRE(w->commit(spooltest::sample_envelope(1)));
        std::string stored;
        REQUIRE(sp->load_with_body(w->id(), stored));
        CHECK(stored == "From: a@example.net\r\n");
    }
    SECTION("a length past the written bytes is refused") {
        auto w = sp->begin();
        REQUIRE(w->write(head));
        CHECK_FALSE(w->replace_head(head.size() + 1, ""));
    }
    CHECK(names_in(t / "incoming").empty());
}
