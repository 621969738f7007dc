// relay/core/event_journal.hpp — the events `mxgate report` summarises
// (SPEC §2, §7), recorded in the spool so reports work whatever log.file
// says (stderr under systemd, text format, rotated files).
//
// An EventJournal is a sink: every event whose name starts with one of the
// journalled families (tls., auth., lab., delivery., mta_sts., policy.,
// queue.accepted) is appended as one JSON line to
// <spool>/state/events.jsonl. Not fsync'ed: it is an observation record,
// not mail. `read_journal` gives the report commands the parsed lines back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "relay/core/event_sink.hpp"

namespace mxgate::core {

class EventJournal final : public EventSink {
public:
    explicit EventJournal(const std::filesystem::path& spool_dir);
    ~EventJournal() override;
    void emit(const Event& e) override;
    static bool journalled(std::string_view event_name);
    static std::filesystem::path file(const std::filesystem::path& spool_dir);

private:
    std::mutex mu_;
    int fd_ = -1;
};

// One journal line, flattened: scalar fields as strings ("true"/"false" for
// booleans, "" for null), lists joined with ','. `ts` and `event` included.
using JournalRecord = std::map<std::string, std::string>;

// Parses a journal line; a torn or foreign line gives an empty record.
JournalRecord parse_journal_line(std::string_view line);
// Every record of <spool>/state/events.jsonl whose ts >= since (RFC 3339
// strings compare in time order; "" = everything).
std::vector<JournalRecord> read_journal(const std::filesystem::path& spool_dir, const std::string& since = "");

}  // namespace mxgate::core
