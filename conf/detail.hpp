// conf/detail.hpp — private to conf/: the pieces the loader is built from.
//
//   diagnostics.cpp   Errors (collects every diagnostic), key suggestions
//   nodes.cpp         Section (one YAML map checked against its known keys)
//                     and the typed readers for one value (as_string, ...)
//   names.cpp         domain names, addresses, SPKI pins, TLS versions
//   features.cpp      the feature-gate table of this build
//   system_hostname.cpp  default `hostname` (system FQDN)
//   recipients_file.cpp  `recipients: {file: PATH}`
//   yaml_documents.cpp   the one YAML document of the file
//   load_*.cpp        one schema section each; loader.cpp ties them together
//
// Rule for every reader: report with Errors and return nullopt/false, never
// throw and never stop; the caller keeps the strict default on failure.
//
// SECURITY: everything here reads the administrator's YAML (and the files it
// names). Values are echoed in messages only after clip() shortens them.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/conf.hpp"

namespace mxgate::conf::detail {

// ---- diagnostics.cpp ------------------------------------------------------

// One value in the file: its dotted path ("listeners[1].role"), the value
// node and, for map entries, the key node (unknown keys point at the key).
struct Entry {
    std::string path;
    YAML::Node value;
    YAML::Node key;  // undefined for list elements
};


class Errors {
public:
    explicit Errors(std::string file) : file_(std::move(file)) {}
    const std::string& file() const { return file_; }
    // Position of a node (yaml-cpp marks are 0-based; ours 1-based).
    Mark mark(const YAML::Node& n) const;
    Mark mark(const YAML::Mark& m) const;
    void at(const YAML::Node& n, std::string message) { at(mark(n), std::move(message)); }
    // Position of an entry's value; for an empty value (`key:`), of its key,
    // since yaml-cpp places an empty value at the next token.
    Mark mark(const Entry& e) const;
    void at(const Entry& e, std::string message) { at(mark(e), std::move(message)); }
    void at(const Mark& m, std::string message) { list_.push_back({m, std::move(message)}); }
    bool empty() const { return list_.empty(); }
    std::vector<Diagnostic> take() { return std::move(list_); }

private:
    std::string file_;
    std::vector<Diagnostic> list_;
};

// The candidate closest to `word` if it is a plausible typo, else "".
std::string closest(std::string_view word, const std::vector<std::string_view>& candidates);
// A value shortened for quoting in a message: 'abc' or 'abc...'.
std::string clip(std::string_view value);

// ---- nodes.cpp ------------------------------------------------------------

// A YAML map checked against the keys its schema knows. A null value counts
// as an empty map. Reports: not a map, non-string keys, duplicate keys and
// unknown keys (with a suggestion).
class Section {
public:
    Section(Errors& err, const Entry& entry, std::initializer_list<std::string_view> known);
    bool valid() const { return valid_; }  // a map (or null)
    bool empty() const { return entries_.empty(); }
    const Entry* find(std::string_view key) const;
    const std::string& path() const { return path_; }
    const std::vector<Entry>& entries() const { return entries_; }  // all string keys, in file order

private:
    std::string path_;
    bool valid_ = false;
    std::vector<std::pair<std::string, Entry>> known_;
    std::vector<Entry> entries_;
};

// The whole document as an Entry (path "").
Entry root_entry(const YAML::Node& doc);
// Path of a child key ("tls" + "inbound" → "tls.inbound"; "" + "spool" → "spool").
std::string child_path(const std::string& parent, std::string_view key);

bool is_null(const Entry& e);
std::optional<std::string> as_string(Errors& err, const Entry& e);  // non-empty scalar
std::optional<bool> as_bool(Errors& err, const Entry& e);           // true | false
std::optional<int64_t> as_int(Errors& err, const Entry& e, int64_t min, int64_t max);
std::optional<Duration> as_duration(Errors& err, const Entry& e, bool allow_zero = false);
std::optional<uint64_t> as_size(Errors& err, const Entry& e);  // > 0
std::optional<HostPort> as_host_port(Errors& err, const Entry& e);
std::optional<Network> as_network(Errors& err, const Entry& e);
// Elements of a sequence (a null value is an empty list).
std::optional<std::vector<Entry>> as_list(Errors& err, const Entry& e);
std::optional<std::vector<std::string>> as_string_list(Errors& err, const Entry& e);

template <class E>
struct Choice {
    std::string_view name;
    E value;
};

std::string choice_list(const std::vector<std::string_view>& names);

template <class E>
std::optional<E> as_enum(Errors& err, const Entry& e, std::initializer_list<Choice<E>> choices) {
    std::optional<std::string> s = as_string(err, e);
    if (!s) return std::nullopt;
    std::vector<std::string_view> names;
    for (const Choice<E>& c : choices) {
        if (c.name == *s) return c.value;
        names.push_back(c.name);
    }
    err.at(e.value, e.path + ": invalid value " + clip(*s) + " (expected " + choice_list(names) + ")");
    return std::nullopt;
}

// Assigns `out` from key `key` of `s` when present and valid.
template <class T, class Read>
const Entry* read_into(const Section& s, std::string_view key, T& out, Read read) {
    const Entry* e = s.find(key);
    if (e == nullptr) return nullptr;
    if (auto v = read(*e)) out = std::move(*v);
    return e;
}

// ---- names.cpp ------------------------------------------------------------

std::string lower(std::string_view s);
// A DNS host/domain name in A-label form: LDH labels of 1..63, total <= 253.
// Empty string = valid; else the reason.
std::string domain_name_problem(std::string_view name);
// "local@domain" or "@domain" (already lower-cased). Empty = valid.
std::string address_problem(std::string_view addr, bool allow_domain_only);
// The domain part of "local@domain" / "@domain".
std::string_view address_domain(std::string_view addr);
bool valid_pin(std::string_view pin);  // "sha256:" + 44-char base64 of 32 bytes
bool valid_tls_version(std::string_view v);

// ---- features.cpp ---------------------------------------------------------

// Capabilities a configuration can ask for. Each is built or not; the table
// in features.cpp is the only place that says which.
enum class Feature {
    submission_listener,
    lab_listener,
    inbound_require_tls,
    inbound_dry_run,
    outbound_encrypt,
    outbound_verify,
    outbound_dane_level,
    outbound_mta_sts_level,
    outbound_policies,
    use_mta_sts,
    use_dane,
    tlsrpt,
    dnssec_validate,
    dkim_sign,
    auth,
    spf,
    dkim_verify,
    dmarc_enforce,
    dmarc_quarantine,
    dnsbl,
    greylisting,
    own_domain_spoofing,
};

bool built(Feature f);
// When `f` is not built: reports "<what>: not supported yet in this build"
// at `at` and returns true.
bool refuse_unbuilt(Errors& err, Feature f, const YAML::Node& at, const std::string& what);
// Reads a boolean whose `true` asks for `f` (written `false` is accepted).
void gated_bool(Errors& err, const Entry* e, bool& out, Feature f);
// Unbuilt features read as off in the snapshot, whatever the contract's
// default, so that nothing downstream believes they run.
void reflect_unbuilt(Config& cfg);

// ---- system_hostname.cpp --------------------------------------------------

// The system FQDN (gethostname + getaddrinfo AI_CANONNAME), lower-case;
// nullopt when it is not a usable domain name.
std::optional<std::string> system_fqdn();

// ---- recipients_file.cpp --------------------------------------------------

// Reads one address or @domain per line ('#' comments, blank lines ignored),
// lower-cased and checked against `domain`. Problems are reported with the
// recipients file's own FILE:LINE:COL; an unreadable file at `where`.
std::vector<std::string> read_recipients_file(Errors& err, const std::string& path,
                                              const std::string& domain, const Entry& where);

// ---- yaml_documents.cpp ----------------------------------------------------

// The first YAML document of `text` (throws YAML::ParserException on a
// syntax error); `second` is set to where a second document starts, if any.
YAML::Node load_single_document(const std::string& text, std::optional<YAML::Mark>& second);

// ---- load_*.cpp: one section each ----------------------------------------

// Relative paths (files read at load time included) are relative to the
// working directory, as they are when the server opens them.
struct Ctx {
    Errors& err;
    Config& cfg;
    // Where tls.certificate / tls.key were written (line 0: not written), for
    // the cross-check that runs after every section is read.
    Mark certificate_at;
    Mark key_at;
    // tls.self_signed was written but is not a boolean: its error suffices;
    // guessing false would add "no such file" errors for the same mistake.
    bool self_signed_unknown = false;
};

// A regular file exists at `path` (stat(2); nothing is opened).
bool regular_file(const std::string& path);

void load_log(Ctx& c, const Entry& e);
void load_listeners(Ctx& c, const Entry& e);
void load_tls(Ctx& c, const Entry& e);
// A TLS profile written as a name ("strict") or a map of a profile and its
// overrides (tls.inbound.dry_run, listeners[].tls_profile); load_tls.cpp.
std::optional<TlsProfile> load_profile_value(Ctx& c, const Entry& e);
void load_dns(Ctx& c, const Entry& e);
void load_domains(Ctx& c, const Entry& e);
void load_auth(Ctx& c, const Entry& e);
void load_policy(Ctx& c, const Entry& e);
void load_limits(Ctx& c, const Entry& e);
void load_queue(Ctx& c, const Entry& e);
void load_metrics(Ctx& c, const Entry& e);

}  // namespace mxgate::conf::detail
