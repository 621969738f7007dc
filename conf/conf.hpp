// conf/conf.hpp — configuration: YAML file in, one immutable Config out.
//
// Interface: load() parses and validates a whole file and returns either a
// snapshot or every error found (never only the first), each as
// "FILE:LINE:COL: message" (1-based; the position of the offending value,
// or of the key for an unknown key). parse_duration/parse_size are the
// grammar of SPEC §3 ("30s", "5m", "2h", "5d"; "10M", "512K", binary units).
//
// SECURITY: the file is trusted input from the administrator, but unknown
// keys and keys of features this build lacks are errors, so a typo can
// never silently disable a security setting.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.hpp"

namespace mxgate::conf {

struct Diagnostic {
    Mark mark;
    std::string message;
    std::string text() const;  // "FILE:LINE:COL: message"
};

struct LoadResult {
    std::shared_ptr<const Config> config;  // null when errors is non-empty
    std::vector<Diagnostic> errors;
};

// Loads and validates a configuration file.
LoadResult load_file(const std::string& path);
// Same, from text already in memory (file name used in diagnostics only).
LoadResult load_text(std::string_view text, const std::string& file_name);

std::optional<Duration> parse_duration(std::string_view s);
std::optional<uint64_t> parse_size(std::string_view s);
std::optional<HostPort> parse_host_port(std::string_view s);
std::optional<Network> parse_network(std::string_view s);

}  // namespace mxgate::conf
