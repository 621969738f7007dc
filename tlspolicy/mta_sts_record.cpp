// tlspolicy/mta_sts_record.cpp — the _mta-sts TXT record (RFC 8461 §3.1).
// Pure: no I/O, fuzzed (tests/fuzz/inbound_records_fuzz.cpp).
// XXX No longer called by the daemon: the sender-posture check now reads
// MTA-STS through resolve_mta_sts() (tlspolicy/mta_sts.hpp's parse_sts_txt,
// fuzzed as mta_sts_txt). Kept until inbound.hpp stops including it.
//
// SECURITY: the record is attacker-controlled DNS text. Only the version
// tag and the id are read; the id must be 1-32 ASCII letters or digits.
#include "tlspolicy/mta_sts_record.hpp"

#include <string_view>

namespace mxgate::tlspolicy {
namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

}  // namespace

// RFC 8461 §3.1: "v=STSv1; id=20160831085700Z;" — v first, id 1-32 alnum.
std::optional<std::string> mta_sts_record_id(const std::string& txt) {
    std::string_view rest(txt);
    bool first = true, version_ok = false;
    std::optional<std::string> id;
    while (!rest.empty()) {
        const auto semi = rest.find(';');
        const std::string field = trim(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        if (field.empty()) {
            // ";v=STSv1; id=..." does not start with the version (found by
            // fuzzing: the empty first field used to be skipped).
            if (first) return std::nullopt;
            continue;
        }
        const auto eq = field.find('=');
        if (eq == std::string::npos) return std::nullopt;
        const std::string key = trim(std::string_view(field).substr(0, eq));
        const std::string value = trim(std::string_view(field).substr(eq + 1));
        if (first) {
            if (key != "v" || value != "STSv1") return std::nullopt;
            version_ok = true;
            first = false;
            continue;
        }
        if (key == "id") {
            if (id || value.empty() || value.size() > 32) return std::nullopt;  // one id only
            for (char c : value)
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return std::nullopt;
            id = value;
        }
    }
    if (!version_ok) return std::nullopt;
    return id;
}

}  // namespace mxgate::tlspolicy
