// dmarc/public_suffix.cpp — public suffix list rules (publicsuffix.org/list).
#include "dmarc/public_suffix.hpp"

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

namespace mxgate::dmarc {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    return out;
}

}  // namespace

PublicSuffixList PublicSuffixList::parse(std::string_view text) {
    PublicSuffixList l;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        const size_t ws = line.find_first_of(" \t\r");
        if (ws != std::string_view::npos) line = line.substr(0, ws);
        if (line.empty() || line.substr(0, 2) == "//") continue;
        if (line[0] == '!') {
            if (line.size() > 1) l.exceptions_.insert(lower(line.substr(1)));
        } else if (line.substr(0, 2) == "*.") {
            if (line.size() > 2) l.wildcards_.insert(lower(line.substr(2)));
        } else {
            l.rules_.insert(lower(line));
        }
    }
    return l;
}

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
    // Label start offsets: candidate suffixes are domain.substr(starts[i]).
    std::vector<size_t> starts{0};
    for (size_t i = 0; i < domain.size(); ++i)
        if (domain[i] == '.') starts.push_back(i + 1);
    const size_t n = starts.size();
    // Index of the first label of the public suffix; default rule "*": the last label.
    size_t suffix = n - 1;
    for (size_t i = 0; i < n; ++i) {
        const std::string cand(domain.substr(starts[i]));
        if (exceptions_.count(cand)) {  // an exception wins: its parent is the suffix
            suffix = i + 1 < n ? i + 1 : i;
            break;
        }
        const bool wild = i + 1 < n && wildcards_.count(std::string(domain.substr(starts[i + 1])));
        if (rules_.count(cand) || wild) {  // the first hit from the left is the longest rule
            suffix = i;
            break;
        }
    }
    if (suffix == 0) return std::string(domain);  // the name is itself a public suffix
    return std::string(domain.substr(starts[suffix - 1]));
}

namespace {

struct ListCache {
    std::mutex mu;
    std::map<std::string, std::shared_ptr<const PublicSuffixList>> lists;
};

ListCache& list_cache() {
    static ListCache c;
    return c;
}

}  // namespace

std::shared_ptr<const PublicSuffixList> cached_public_suffix_list(const std::string& path) {
    ListCache& c = list_cache();
    std::lock_guard<std::mutex> lock(c.mu);
    const auto it = c.lists.find(path);
    return it == c.lists.end() ? nullptr : it->second;
}

std::shared_ptr<const PublicSuffixList> load_public_suffix_list(const std::string& path) {
    if (auto hit = cached_public_suffix_list(path)) return hit;
    // Read and parse without the lock (two first loads may race: the first
    // one stored wins, both lists are equal).
    std::ifstream in(path, std::ios::binary);
    if (!in) return nullptr;
    std::stringstream ss;
    ss << in.rdbuf();
    auto list = std::make_shared<const PublicSuffixList>(PublicSuffixList::parse(ss.str()));
    if (list->size() == 0) return nullptr;
    ListCache& c = list_cache();
    std::lock_guard<std::mutex> lock(c.mu);
    return c.lists.emplace(path, std::move(list)).first->second;
}

}  // namespace mxgate::dmarc
