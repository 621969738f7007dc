// conf/nodes.cpp — reading YAML nodes against the schema: Section checks one
// map's keys (unknown, duplicate, non-string); the as_* readers turn one
// value into a typed value or a diagnostic at that value.
#include "conf/detail.hpp"

namespace mxgate::conf::detail {
namespace {

const char* kind(const YAML::Node& n) {
    if (!n.IsDefined() || n.IsNull()) return "nothing";
    if (n.IsScalar()) return "a string";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a map";
    return "an unknown node";
}

void wrong_type(Errors& err, const Entry& e, const char* expected) {
    err.at(e, e.path + ": expected " + expected + ", found " + kind(e.value));
}

// The scalar text of a value, or nullopt with a diagnostic.
std::optional<std::string> scalar(Errors& err, const Entry& e, const char* expected) {
    if (!e.value.IsDefined() || !e.value.IsScalar()) {
        wrong_type(err, e, expected);
        return std::nullopt;
    }
    return e.value.Scalar();
}

}  // namespace

std::string child_path(const std::string& parent, std::string_view key) {
    if (parent.empty()) return std::string(key);
    return parent + "." + std::string(key);
}

Entry root_entry(const YAML::Node& doc) { return Entry{"", doc, YAML::Node()}; }

bool is_null(const Entry& e) { return !e.value.IsDefined() || e.value.IsNull(); }

Section::Section(Errors& err, const Entry& entry, std::initializer_list<std::string_view> known)
    : path_(entry.path) {
    if (is_null(entry)) {
        valid_ = true;
        return;
    }
    if (!entry.value.IsMap()) {
        err.at(entry, (path_.empty() ? std::string("configuration") : path_) +
                                ": expected a map, found " + kind(entry.value));
        return;
    }
    valid_ = true;
    const std::vector<std::string_view> names(known);
    for (auto it = entry.value.begin(); it != entry.value.end(); ++it) {
        const YAML::Node k = it->first;
        if (!k.IsScalar()) {
            err.at(k, child_path(path_, "?") + ": a key must be a string, found " + kind(k));
            continue;
        }
        const std::string key = k.Scalar();
        Entry child{child_path(path_, key), it->second, k};
        bool is_known = false;
        for (std::string_view n : names) is_known = is_known || n == key;
        if (!is_known) {
            std::string msg = child.path + ": unknown key";
            const std::string hint = closest(key, names);
            if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
            err.at(k, std::move(msg));
        } else {
            bool seen = false;
            for (const auto& [name, _] : known_) seen = seen || name == key;
            if (seen) {
                // YAML 1.2 §3.2.1.1: keys are unique; which one wins is unspecified.
                err.at(k, child.path + ": duplicate key");
                continue;
            }
            known_.emplace_back(key, child);
        }
        entries_.push_back(std::move(child));
    }
}

const Entry* Section::find(std::string_view key) const {
    for (const auto& [name, e] : known_)
        if (name == key) return &e;
    return nullptr;
}

std::optional<std::string> as_string(Errors& err, const Entry& e) {
    std::optional<std::string> s = scalar(err, e, "a string");
    if (s && s->empty()) {
        err.at(e, e.path + ": must not be empty");
        return std::nullopt;
    }
    return s;
}

std::optional<bool> as_bool(Errors& err, const Entry& e) {
    const std::optional<std::string> s = scalar(err, e, "true or false");
    if (!s) return std::nullopt;
    // Only the YAML 1.2 core booleans: "yes", "on" and "1" are not accepted,
    // so a value's meaning never depends on which YAML dialect one knows.
    const std::string v = lower(*s);
    if (v == "true") return true;
    if (v == "false") return false;
    err.at(e, e.path + ": expected true or false, found " + clip(*s));
    return std::nullopt;
}

std::optional<int64_t> as_int(Errors& err, const Entry& e, int64_t min, int64_t max) {
    const std::optional<std::string> s = scalar(err, e, "an integer");
    if (!s) return std::nullopt;
    std::string_view digits = *s;
    const bool negative = !digits.empty() && digits.front() == '-';
    if (negative) digits.remove_prefix(1);
    // At most 18 digits: no int64_t overflow, and far beyond any limit here.
    bool ok = !digits.empty() && digits.size() <= 18;
    int64_t v = 0;
    for (size_t i = 0; ok && i < digits.size(); ++i) {
        const char c = digits[i];
        if (c < '0' || c > '9') ok = false;
        else v = v * 10 + (c - '0');
    }
    if (negative) v = -v;
    if (!ok || v < min || v > max) {
        err.at(e, e.path + ": expected an integer from " + std::to_string(min) + " to " +
                            std::to_string(max) + ", found " + clip(*s));
        return std::nullopt;
    }
    return v;
}

std::optional<Duration> as_duration(Errors& err, const Entry& e, bool allow_zero) {
    const std::optional<std::string> s = scalar(err, e, "a duration");
    if (!s) return std::nullopt;
    const std::optional<Duration> d = parse_duration(*s);
    if (!d) {
        err.at(e, e.path + ": invalid duration " + clip(*s) +
                            " (expected a whole number and a unit s, m, h or d, e.g. 30s, 5m, 2h, 5d)");
        return std::nullopt;
    }
    if (!allow_zero && d->count() == 0) {
        err.at(e, e.path + ": must be longer than 0s");
        return std::nullopt;
    }
    return d;
}

std::optional<uint64_t> as_size(Errors& err, const Entry& e) {
    const std::optional<std::string> s = scalar(err, e, "a size");
    if (!s) return std::nullopt;
    const std::optional<uint64_t> n = parse_size(*s);
    if (!n) {
        err.at(e, e.path + ": invalid size " + clip(*s) +
                            " (expected bytes, or a number and K, M, G or T (binary), e.g. 512K, 10M)");
        return std::nullopt;
    }
    if (*n == 0) {
        err.at(e, e.path + ": must be more than 0 bytes");
        return std::nullopt;
    }
    return n;
}

std::optional<HostPort> as_host_port(Errors& err, const Entry& e) {
    const std::optional<std::string> s = as_string(err, e);
    if (!s) return std::nullopt;
    std::optional<HostPort> hp = parse_host_port(*s);
    if (!hp)
        err.at(e, e.path + ": invalid address " + clip(*s) +
                            " (expected host:port, e.g. 127.0.0.1:2525, [::]:25, mx.example.org:25)");
    return hp;
}

std::optional<Network> as_network(Errors& err, const Entry& e) {
    const std::optional<std::string> s = as_string(err, e);
    if (!s) return std::nullopt;
    std::optional<Network> n = parse_network(*s);
    if (!n)
        err.at(e, e.path + ": invalid network " + clip(*s) +
                            " (expected an address or CIDR, e.g. 198.51.100.0/24, 2001:db8::/32)");
    return n;
}

std::optional<std::vector<Entry>> as_list(Errors& err, const Entry& e) {
    std::vector<Entry> out;
    if (is_null(e)) return out;
    if (!e.value.IsSequence()) {
        wrong_type(err, e, "a list");
        return std::nullopt;
    }
    size_t i = 0;
    for (auto it = e.value.begin(); it != e.value.end(); ++it, ++i)
        out.push_back(Entry{e.path + "[" + std::to_string(i) + "]", *it, YAML::Node()});
    return out;
}

std::optional<std::vector<std::string>> as_string_list(Errors& err, const Entry& e) {
    const std::optional<std::vector<Entry>> items = as_list(err, e);
    if (!items) return std::nullopt;
    std::vector<std::string> out;
    bool ok = true;
    for (const Entry& item : *items) {
        if (std::optional<std::string> s = as_string(err, item)) out.push_back(std::move(*s));
        else ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
}

std::string choice_list(const std::vector<std::string_view>& names) {
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
        out += names[i];
    }
    return out;
}

}  // namespace mxgate::conf::detail
