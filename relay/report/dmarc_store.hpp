// relay/report/dmarc_store.hpp — the recorded DMARC evaluations that daily
// aggregate reports are built from (RFC 7489 §7.2; docs/dmarc-reports.md).
//
// Layout, under <spool>/state/dmarc_reports/:
//   open-<begin>.rows            the period being recorded (one per daemon)
//   period-<begin>-<end>.rows    closed periods, waiting to be reported
// Each file holds one line per evaluated message (dmarc/aggregate_report:
// encode_row); identical rows are counted when the report is built. Sent
// reports are remembered in the state store namespace "dmarc_sent" (key
// "<begin>-<end> <policy-domain>", fsync'ed before the period's file is
// removed), so a restart never sends a report twice.
//
// A period is a UTC day, [00:00, 24:00). `mxgate report dmarc --send-now`
// closes the open period early (its end is then the moment of the request)
// and the next one starts there, so date ranges never overlap.
//
// Blocking (appends with fdatasync, renames, directory fsyncs): call every
// method from the blocking pool (core::offload), never the I/O thread.
// Thread-safe: one mutex over the open period; the fdatasync of an append
// runs outside it, so concurrent sessions' syncs overlap.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dmarc/aggregate_report.hpp"
#include "relay/core/state_store.hpp"

namespace mxgate::report {

inline constexpr int64_t kDay = 86400;
inline int64_t utc_day_start(int64_t t) { return t - ((t % kDay) + kDay) % kDay; }

class DmarcStore {
public:
    // Creates the directory (0700). Throws std::runtime_error when it cannot.
    explicit DmarcStore(const std::filesystem::path& spool_dir);

    // Appends one row (durable when true is returned). row.time decides the
    // period: a row after the open period's day closes that period first.
    bool record(const dmarc::ReportRow& row);

    // Closes the open period when its day is over at `now`, or at once when
    // `force` (then its end is `now`). Returns false on an I/O error.
    bool close_period(int64_t now, bool force);

    struct Period {
        int64_t begin = 0;
        int64_t end = 0;
        std::filesystem::path file;
        std::string key() const { return std::to_string(begin) + "-" + std::to_string(end); }
    };
    // Closed periods, oldest first.
    std::vector<Period> closed_periods() const;
    // The open period's rows (for `mxgate report dmarc`), if any.
    std::optional<Period> open_period() const;
    std::vector<dmarc::ReportRow> rows(const Period& p) const;

    bool sent(const Period& p, const std::string& domain) const;
    bool mark_sent(const Period& p, const std::string& domain);  // durable
    // Every report of the period is done: drop its rows, then its marks.
    void finish(const Period& p);

    const std::filesystem::path& dir() const { return dir_; }

    // Read-only view for tools beside the daemon (`mxgate report dmarc`):
    // every period on disk (closed ones, then the open one, whose end is
    // its day's end), changing nothing.
    struct Listed {
        Period period;
        bool open = false;
        std::vector<dmarc::ReportRow> rows;
    };
    static std::vector<Listed> list(const std::filesystem::path& spool_dir);

private:
    std::filesystem::path open_path(int64_t begin) const;
    bool close_locked(int64_t end);
    void sync_dir() const;

    std::filesystem::path dir_;
    core::StateStore sent_;
    mutable std::mutex mu_;
    std::optional<int64_t> open_begin_;  // the open period, if a file exists
    int64_t last_end_ = 0;               // end of the latest closed period
};

}  // namespace mxgate::report
