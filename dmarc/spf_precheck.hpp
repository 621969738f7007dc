// dmarc/spf_precheck.hpp — validates and bounds everything mxgate hands to
// libspf2, before the library sees it.
//
// Why: Debian 12's libspf2 1.2.10 lacks the fix for CVE-2023-42118 (an
// integer underflow while compiling SPF macros: a record whose terms fill
// libspf2's 511-byte per-term buffer makes `_avail - sizeof(SPF_data_t)`
// wrap) and has a history of macro-expansion overflows (CVE-2021-20314,
// -33912, -33913). So every SPF record, every explanation string and every
// identity is checked here against the RFC 7208 §12 grammar *and* against
// bounds well inside libspf2's buffers. A record that fails is reported as
// permerror by the caller and never reaches libspf2.
//
// Bounds (mxgate's own, stricter than the RFC where the RFC is unbounded):
//   record   at most 2048 octets and 64 terms
//   term     at most 255 octets (libspf2's SPF_MAX_STR_LEN) and 8 macros
//            ("%{..}", "%%", "%_", "%-"); the compiled term then needs at
//            most 255 + 9*8 + 8*4 octets, far below SPF_MAX_MECH_LEN (511)
//   macro    transformer digits 1..128 (a name has at most 127 labels)
//   explanation text  at most 255 octets and 8 macros
//   identity local-part 1..64 printable ASCII octets; domain 1..253 octets,
//            LDH/underscore labels of 1..63 octets, at least two labels
//
// Interface: pure functions, no allocation beyond the result; fuzzed by
// tests/fuzz/spf_precheck_fuzz.cpp.
// SECURITY: input is attacker-controlled DNS TXT data and SMTP envelope text.
// RFCs: 7208 §4.6 (record syntax), §7 (macros), §12 (ABNF).
#pragma once

#include <string>
#include <string_view>

namespace mxgate::dmarc {

struct SpfPrecheck {
    bool ok = true;
    std::string reason;  // why not, for logs (never the record itself)
};

inline constexpr size_t kSpfMaxRecord = 2048;
inline constexpr size_t kSpfMaxTerms = 64;
inline constexpr size_t kSpfMaxTerm = 255;
inline constexpr int kSpfMaxMacrosPerTerm = 8;
inline constexpr size_t kSpfMaxExplanation = 255;

// RFC 7208 §4.5: a TXT string is an SPF record iff it starts with
// "v=spf1" followed by a space or its end (case-insensitive).
bool is_spf_record(std::string_view txt);

// The whole record, "v=spf1 ..." included.
SpfPrecheck precheck_spf_record(std::string_view record);

// The TXT text an exp= modifier points at (RFC 7208 §6.2 explain-string).
SpfPrecheck precheck_explanation(std::string_view text);

// A domain name handed to libspf2 (MAIL FROM domain, HELO name) or
// returned by DNS for it (MX, PTR targets).
SpfPrecheck precheck_domain(std::string_view name);

// The MAIL FROM local-part (expanded by %{l}).
SpfPrecheck precheck_local_part(std::string_view local);

}  // namespace mxgate::dmarc
