// dmarc/public_suffix.hpp — organisational domains (RFC 7489 §3.2) from the
// public suffix list (policy.dmarc.public_suffix_list).
//
// Pure rule matching plus a cached file loader. A name under no listed
// suffix uses its last two labels (the list's implicit "*" rule, SPEC §6).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

namespace mxgate::dmarc {

class PublicSuffixList {
public:
    // Parses the publicsuffix.org format: one rule per line, "//" comments,
    // "*." wildcards, "!" exceptions; only the first word of a line counts.
    static PublicSuffixList parse(std::string_view text);

    // Lower-case ASCII domain (no trailing dot) → its organisational domain:
    // the public suffix plus one label; a public suffix itself maps to itself.
    std::string organizational_domain(std::string_view domain) const;

    size_t size() const { return rules_.size() + wildcards_.size() + exceptions_.size(); }

private:
    std::unordered_set<std::string> rules_;       // "co.uk"
    std::unordered_set<std::string> wildcards_;   // "*.ck" stored as "ck"
    std::unordered_set<std::string> exceptions_;  // "!www.ck" stored as "www.ck"
};

// Loads (once per path, thread-safe) and caches the list; nullptr when the
// file cannot be read (callers answer a temporary failure, never guess).
std::shared_ptr<const PublicSuffixList> load_public_suffix_list(const std::string& path);

// The list load_public_suffix_list already read for `path`, or nullptr; no
// file I/O, and never waits for a load in progress (the file is read
// outside the lock), so the I/O thread may call it for every message and
// offload only the first load.
std::shared_ptr<const PublicSuffixList> cached_public_suffix_list(const std::string& path);

}  // namespace mxgate::dmarc
