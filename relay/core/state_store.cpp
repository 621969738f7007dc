#include "relay/core/state_store.hpp"
#include "relay/core/ascii.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mxgate::core {

namespace fs = std::filesystem;

namespace {

bool plain_key_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '@' || c == '+' || c == ',';
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

}  // namespace

StateStore::StateStore(const fs::path& spool_dir, std::string_view name) : dir_(spool_dir / "state" / std::string(name)) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw std::runtime_error("cannot create " + dir_.string() + ": " + ec.message());
    ::chmod(dir_.c_str(), 0700);
}

// '.' is encoded too, so no file name is "." or ".." and temp files
// (which start with '.') can never collide with a key.
std::string StateStore::encode_key(std::string_view key) {
    if (key.empty()) return "%";
    return ascii::percent_encode(key, plain_key_char);
}

std::optional<std::string> StateStore::decode_key(std::string_view name) {
    if (name == "%") return std::string();
    std::string out;
    for (size_t i = 0; i < name.size(); ++i) {
        if (name[i] != '%') {
            if (!plain_key_char(static_cast<unsigned char>(name[i]))) return std::nullopt;
            out += name[i];
            continue;
        }
        if (i + 2 >= name.size()) return std::nullopt;
        const int hi = core::ascii::hex_digit(name[i + 1]), lo = core::ascii::hex_digit(name[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::optional<std::string> StateStore::get(std::string_view key) const {
    std::ifstream in(dir_ / encode_key(key), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool StateStore::put(std::string_view key, std::string_view value, bool durable) {
    static std::atomic<uint64_t> counter{0};
    const fs::path final_path = dir_ / encode_key(key);
    const fs::path tmp = dir_ / ("." + std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    bool ok = write_all(fd, value);
    if (ok && durable) ok = ::fsync(fd) == 0;
    ok = (::close(fd) == 0) && ok;
    if (ok) ok = ::rename(tmp.c_str(), final_path.c_str()) == 0;
    if (!ok) {
        ::unlink(tmp.c_str());
        return false;
    }
    if (durable) {
        const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            ::fsync(dfd);
            ::close(dfd);
        }
    }
    return true;
}

void StateStore::erase(std::string_view key) {
    std::error_code ec;
    fs::remove(dir_ / encode_key(key), ec);
}

void StateStore::for_each(const std::function<void(const std::string&, const std::string&)>& fn) const {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name[0] == '.') continue;  // temp files
        const auto key = decode_key(name);
        if (!key) continue;
        const auto value = get(*key);
        if (value) fn(*key, *value);
    }
}

std::optional<int64_t> StateStore::mtime(std::string_view key) const {
    struct stat st {};
    const fs::path p = dir_ / encode_key(key);
    if (::stat(p.c_str(), &st) != 0) return std::nullopt;
    return static_cast<int64_t>(st.st_mtime);
}

}  // namespace mxgate::core
