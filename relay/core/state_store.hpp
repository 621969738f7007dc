// relay/core/state_store.hpp — the spool's small embedded key/value store
// for module state that must survive restarts: MTA-STS policy cache,
// best-TLS-seen per destination, inbound handshake failures, per-user
// networks seen, locked accounts, greylisting triplets, ...
//
// One StateStore is one namespace: the directory <spool>/state/<name>/,
// one file per key. Keys are arbitrary bytes; file names are their
// percent-encoding (so a hostile key cannot escape the directory). put()
// replaces a record atomically (write temp, optionally fsync, rename): a
// reader sees the old or the new value, never a torn one. Durability is the
// caller's choice per write: security state (a locked account) is fsync'ed,
// caches need not be.
//
// Thread-safe: every operation is a single filesystem operation; two
// writers of the same key race benignly (last rename wins).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mxgate::core {

class StateStore {
public:
    // Opens (creating, mode 0700) <spool_dir>/state/<name>. Throws
    // std::runtime_error when the directory cannot be created.
    StateStore(const std::filesystem::path& spool_dir, std::string_view name);

    std::optional<std::string> get(std::string_view key) const;
    // Returns false (and leaves the old value) when the write fails.
    bool put(std::string_view key, std::string_view value, bool durable = false);
    void erase(std::string_view key);
    // Calls fn(key, value) for every record (order unspecified).
    void for_each(const std::function<void(const std::string& key, const std::string& value)>& fn) const;
    // Modification time of a record (unix seconds), when present.
    std::optional<int64_t> mtime(std::string_view key) const;

    const std::filesystem::path& dir() const { return dir_; }

    static std::string encode_key(std::string_view key);
    static std::optional<std::string> decode_key(std::string_view file_name);

private:
    std::filesystem::path dir_;
};

}  // namespace mxgate::core
