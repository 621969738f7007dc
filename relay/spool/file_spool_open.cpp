// relay/spool/file_spool_open.cpp — open_file_spool(): make the spool
// directories (0700) and clean up what a crash left (docs/spool.md "At
// restart"):
//   incoming/*          a message whose commit() never returned true: the
//                       client got no 250, so it retries; remove
//   free/*              recycled files of delivered messages, or a new
//                       message written over one whose commit() never
//                       returned true; remove (a running daemon refills it)
//   queue|hold/*.tmp    a .state replacement that never got renamed;
//                       the old .state is intact; remove
//   queue|hold/X.state  with no message X beside it: if X is in the other
//                       directory without a state (crash between the two
//                       renames of hold/release), move it there; else it
//                       is left from remove(): delete
//
// SECURITY: the spool root may be a symlink (an admin's choice); the
// subdirectories may not (O_NOFOLLOW). Group/other permission bits on any
// of them are removed: message bodies and envelopes are private.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "relay/spool/file_spool.hpp"

namespace mxgate::spool {

namespace {

[[noreturn]] void fail(const std::string& root, const std::string& what) {
    throw std::runtime_error("spool " + root + ": " + what + ": " + std::strerror(errno));
}

// A directory fd for `name` under `parent` (or the path itself when
// parent < 0), created 0700 if missing, permissions tightened to 0700.
io::UniqueFd open_dir(int parent, const std::string& name, const std::string& root) {
    int rc = parent < 0 ? ::mkdir(name.c_str(), 0700) : ::mkdirat(parent, name.c_str(), 0700);
    if (rc != 0 && errno != EEXIST) fail(root, "cannot create " + name);
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (parent < 0 ? 0 : O_NOFOLLOW);
    io::UniqueFd fd(parent < 0 ? ::open(name.c_str(), flags) : ::openat(parent, name.c_str(), flags));
    if (!fd) fail(root, "cannot open " + name + " (must be a directory, not a symlink)");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail(root, "cannot stat " + name);
    if ((st.st_mode & 077) != 0 && ::fchmod(fd.get(), 0700) != 0) fail(root, "cannot chmod 0700 " + name);
    return fd;
}

std::vector<std::string> entries(int dirfd) {
    std::vector<std::string> names;
    int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return names;
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
        ::close(fd);
        return names;
    }
    while (struct dirent* e = ::readdir(dir)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(dir);
    return names;
}

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void repair_states(int here, int other) {
    constexpr std::string_view kState = ".state";
    for (const std::string& name : entries(here)) {
        if (ends_with(name, ".tmp")) {
            io::unlink_file(here, name, true);
            continue;
        }
        if (!ends_with(name, kState)) continue;
        std::string id = name.substr(0, name.size() - kState.size());
        if (!is_valid_queue_id(id) || io::exists(here, id)) continue;
        if (io::exists(other, id) && !io::exists(other, name))
            io::move_file(here, name, other, name);
        else
            io::unlink_file(here, name, true);
    }
    io::fsync_fd(here);
}

}  // namespace

void repair_spool(FileSpool::Dirs& d) {
    for (const std::string& name : entries(d.incoming.get())) io::unlink_file(d.incoming.get(), name, true);
    io::fsync_fd(d.incoming.get());
    for (const std::string& name : entries(d.free.get())) io::unlink_file(d.free.get(), name, true);
    io::fsync_fd(d.free.get());
    repair_states(d.queue.get(), d.hold.get());
    repair_states(d.hold.get(), d.queue.get());
}

std::shared_ptr<Spool> open_file_spool(const std::string& dir, bool repair) {
    if (dir.empty()) throw std::runtime_error("spool: no directory configured");
    FileSpool::Dirs d;
    d.root = dir;
    while (d.root.size() > 1 && d.root.back() == '/') d.root.pop_back();
    d.root_fd = open_dir(-1, d.root, d.root);
    int root = d.root_fd.get();
    d.incoming = open_dir(root, "incoming", d.root);
    d.queue = open_dir(root, "queue", d.root);
    d.hold = open_dir(root, "hold", d.root);
    d.corrupt = open_dir(root, "corrupt", d.root);
    d.free = open_dir(root, "free", d.root);
    open_dir(root, "state", d.root);  // other modules' small stores
    if (!io::fsync_fd(root)) fail(d.root, "cannot fsync");
    // Only the daemon repairs: a tool (mxgate queue) running beside it must
    // not delete the messages the daemon is receiving into incoming/.
    if (repair) repair_spool(d);
    return std::make_shared<FileSpool>(std::move(d));
}

}  // namespace mxgate::spool
