// dmarc/dmarc_record.hpp — a DMARC policy record (RFC 7489 §6.3), parsed by
// OpenDMARC's library (opendmarc_policy_store_dmarc) and read back through
// its fetch functions.
//
// mxgate fetches the TXT records itself (through its Resolver) and only
// hands the library a record that starts with "v=DMARC1" (RFC 7489 §6.6.3:
// libopendmarc 1.4.2 also accepts "p=reject; v=DMARC1"). Evaluation
// (alignment, p/sp choice, pct) is mxgate's own: see dmarc/dmarc_eval.hpp
// for why. Blocking-free, but it is library code: run it on the check pool.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxgate::dmarc {

enum class DmarcPolicy : char { none = 'n', quarantine = 'q', reject = 'r' };

struct DmarcRecord {
    DmarcPolicy p = DmarcPolicy::none;
    std::optional<DmarcPolicy> sp;  // absent: subdomains inherit p
    int pct = 100;
    bool adkim_strict = false;
    bool aspf_strict = false;
};

// "v=DMARC1" as the first tag (whitespace allowed around '=' and before ';').
bool is_dmarc_record(std::string_view txt);

// The TXT strings at _dmarc.<domain> → the one DMARC record, if exactly one
// starts with v=DMARC1 (several: none applies, RFC 7489 §6.6.3).
std::optional<std::string> select_dmarc_record(const std::vector<std::string>& txts);

// nullopt (with error) when the library refuses the record: then no policy
// applies (RFC 7489 §6.6.3) and the result is permerror.
std::optional<DmarcRecord> parse_dmarc_record(std::string_view txt, std::string& error);

const char* to_string(DmarcPolicy p);

}  // namespace mxgate::dmarc
