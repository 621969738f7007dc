// relay/report/dmarc_store.cpp — see dmarc_store.hpp.
#include "relay/report/dmarc_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "relay/spool/fsync_util.hpp"

namespace mxgate::report {

namespace fs = std::filesystem;

namespace {

std::optional<int64_t> number(std::string_view s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    int64_t n = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

constexpr std::string_view kOpen = "open-";
constexpr std::string_view kPeriod = "period-";
constexpr std::string_view kExt = ".rows";

// "open-<begin>.rows" / "period-<begin>-<end>.rows"
std::optional<int64_t> parse_open(const std::string& name) {
    if (name.rfind(kOpen, 0) != 0 || name.size() <= kOpen.size() + kExt.size() ||
        name.compare(name.size() - kExt.size(), kExt.size(), kExt) != 0)
        return std::nullopt;
    return number(std::string_view(name).substr(kOpen.size(), name.size() - kOpen.size() - kExt.size()));
}

std::optional<std::pair<int64_t, int64_t>> parse_period(const std::string& name) {
    if (name.rfind(kPeriod, 0) != 0 || name.size() <= kPeriod.size() + kExt.size() ||
        name.compare(name.size() - kExt.size(), kExt.size(), kExt) != 0)
        return std::nullopt;
    const std::string_view mid =
        std::string_view(name).substr(kPeriod.size(), name.size() - kPeriod.size() - kExt.size());
    const size_t dash = mid.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto b = number(mid.substr(0, dash)), e = number(mid.substr(dash + 1));
    if (!b || !e || *e <= *b) return std::nullopt;
    return std::make_pair(*b, *e);
}

// A crash during an append can leave a line without its newline; the next
// append would glue a good row onto it. Cut the file back to its last
// complete line (that row was never acknowledged as recorded).
void drop_torn_tail(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec || size == 0) return;
    std::ifstream in(file, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.empty() || data.back() == '\n') return;
    const size_t nl = data.rfind('\n');
    fs::resize_file(file, nl == std::string::npos ? 0 : nl + 1, ec);
}

}  // namespace

DmarcStore::DmarcStore(const fs::path& spool_dir)
    : dir_(spool_dir / "state" / "dmarc_reports"), sent_(spool_dir, "dmarc_sent") {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw std::runtime_error("cannot create " + dir_.string() + ": " + ec.message());
    ::chmod(dir_.c_str(), 0700);
    // Pick up where the last run stopped. Several open files can only come
    // from a crash between two renames: all but the newest are closed here.
    std::vector<int64_t> opens;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        const std::string name = entry.path().filename().string();
        if (auto b = parse_open(name)) opens.push_back(*b);
        if (auto p = parse_period(name)) last_end_ = std::max(last_end_, p->second);
    }
    std::sort(opens.begin(), opens.end());
    for (size_t i = 0; i + 1 < opens.size(); ++i) {
        open_begin_ = opens[i];
        close_locked(std::max(opens[i] + 1, std::min(opens[i + 1], utc_day_start(opens[i]) + kDay)));
    }
    if (!opens.empty()) {
        open_begin_ = opens.back();
        drop_torn_tail(open_path(*open_begin_));
    }
}

fs::path DmarcStore::open_path(int64_t begin) const {
    return dir_ / (std::string(kOpen) + std::to_string(begin) + std::string(kExt));
}

void DmarcStore::sync_dir() const {
    const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

bool DmarcStore::close_locked(int64_t end) {
    if (!open_begin_) return true;
    const int64_t begin = *open_begin_;
    if (end <= begin) end = begin + 1;
    const fs::path to =
        dir_ / (std::string(kPeriod) + std::to_string(begin) + "-" + std::to_string(end) + std::string(kExt));
    if (::rename(open_path(begin).c_str(), to.c_str()) != 0 && errno != ENOENT) return false;
    sync_dir();
    open_begin_.reset();
    last_end_ = std::max(last_end_, end);
    return true;
}

bool DmarcStore::record(const dmarc::ReportRow& row) {
    const std::string line = dmarc::encode_row(row);
    int fd = -1;
    {
        std::lock_guard lock(mu_);
        if (open_begin_ && row.time >= utc_day_start(*open_begin_) + kDay)
            if (!close_locked(utc_day_start(*open_begin_) + kDay)) return false;
        bool created = false;
        if (!open_begin_) {
            open_begin_ = std::max(utc_day_start(row.time), last_end_);
            created = true;
        }
        fd = ::open(open_path(*open_begin_).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) return false;
        // One write() of one line: O_APPEND keeps concurrent lines whole.
        if (!spool::io::write_all(fd, line)) {
            ::close(fd);
            return false;
        }
        if (created) sync_dir();
    }
    const bool ok = ::fdatasync(fd) == 0;
    return (::close(fd) == 0) && ok;
}

bool DmarcStore::close_period(int64_t now, bool force) {
    std::lock_guard lock(mu_);
    if (!open_begin_) {
        // Nothing recorded yet; a forced close still moves the next begin on.
        if (force) last_end_ = std::max(last_end_, now);
        return true;
    }
    const int64_t day_end = utc_day_start(*open_begin_) + kDay;
    if (force) return close_locked(std::min(now, day_end));
    if (now >= day_end) return close_locked(day_end);
    return true;
}

std::vector<DmarcStore::Period> DmarcStore::closed_periods() const {
    std::vector<Period> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec))
        if (auto p = parse_period(entry.path().filename().string())) out.push_back({p->first, p->second, entry.path()});
    std::sort(out.begin(), out.end(), [](const Period& a, const Period& b) { return a.begin < b.begin; });
    return out;
}

std::optional<DmarcStore::Period> DmarcStore::open_period() const {
    std::lock_guard lock(mu_);
    if (!open_begin_) return std::nullopt;
    return Period{*open_begin_, utc_day_start(*open_begin_) + kDay, open_path(*open_begin_)};
}

std::vector<dmarc::ReportRow> DmarcStore::rows(const Period& p) const {
    std::ifstream in(p.file, std::ios::binary);
    if (!in) return {};
    std::ostringstream ss;
    ss << in.rdbuf();
    return dmarc::decode_rows(ss.str());
}

bool DmarcStore::sent(const Period& p, const std::string& domain) const {
    return sent_.get(p.key() + " " + domain).has_value();
}

bool DmarcStore::mark_sent(const Period& p, const std::string& domain) {
    return sent_.put(p.key() + " " + domain, "sent", true);
}

std::vector<DmarcStore::Listed> DmarcStore::list(const fs::path& spool_dir) {
    const fs::path dir = spool_dir / "state" / "dmarc_reports";
    std::vector<Listed> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        Listed l;
        if (auto p = parse_period(name)) {
            l.period = {p->first, p->second, entry.path()};
        } else if (auto b = parse_open(name)) {
            l.period = {*b, utc_day_start(*b) + kDay, entry.path()};
            l.open = true;
        } else {
            continue;
        }
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        l.rows = dmarc::decode_rows(data);
        out.push_back(std::move(l));
    }
    std::sort(out.begin(), out.end(), [](const Listed& a, const Listed& b) {
        return a.open != b.open ? !a.open : a.period.begin < b.period.begin;
    });
    return out;
}

void DmarcStore::finish(const Period& p) {
    std::error_code ec;
    fs::remove(p.file, ec);
    sync_dir();
    // Marks only after the rows are gone: a crash in between leaves marks
    // of a period that no longer exists, which nothing reads.
    const std::string prefix = p.key() + " ";
    std::vector<std::string> keys;
    sent_.for_each([&](const std::string& k, const std::string&) {
        if (k.rfind(prefix, 0) == 0) keys.push_back(k);
    });
    for (const std::string& k : keys) sent_.erase(k);
}

}  // namespace mxgate::report
