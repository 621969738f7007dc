// conf/recipients_file.cpp — `recipients: {file: PATH}`: one address or
// @domain per line; '#' starts a comment at the start of a line or after
// blank space (a '#' inside an address is part of it, RFC 5322 atext).
// Problems are reported with the recipients file's own FILE:LINE:COL.
#include <sys/stat.h>

#include <fstream>

#include "conf/detail.hpp"

namespace mxgate::conf::detail {
namespace {

constexpr size_t kMaxFileSize = 64u << 20;  // a recipient table, not a mailbox dump

bool blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::vector<std::string> read_recipients_file(Errors& err, const std::string& path,
                                              const std::string& domain, const Entry& where) {
    std::vector<std::string> out;
    struct stat st {};
    // stat first: a FIFO or device named here would block the loader forever.
    if (::stat(path.c_str(), &st) != 0) {
        err.at(where, where.path + ": cannot read recipients file " + clip(path) + ": no such file");
        return out;
    }
    if (!S_ISREG(st.st_mode)) {
        err.at(where, where.path + ": recipients file " + clip(path) + " is not a regular file");
        return out;
    }
    if (static_cast<uint64_t>(st.st_size) > kMaxFileSize) {
        err.at(where, where.path + ": recipients file " + clip(path) + " is larger than 64M");
        return out;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        err.at(where, where.path + ": cannot read recipients file " + clip(path) + ": permission denied");
        return out;
    }
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        size_t begin = 0;
        while (begin < line.size() && blank(line[begin])) ++begin;
        size_t end = begin;
        while (end < line.size() && !blank(line[end])) ++end;
        if (begin == line.size() || line[begin] == '#') continue;
        size_t rest = end;
        while (rest < line.size() && blank(line[rest])) ++rest;
        const Mark at{path, lineno, static_cast<int>(begin) + 1};
        if (rest < line.size() && line[rest] != '#') {
            err.at(Mark{path, lineno, static_cast<int>(rest) + 1},
                   "unexpected text after the address (one address or @domain per line)");
            continue;
        }
        const std::string addr = lower(std::string_view(line).substr(begin, end - begin));
        if (const std::string problem = address_problem(addr, true); !problem.empty()) {
            err.at(at, "invalid recipient " + clip(addr) + ": " + problem);
            continue;
        }
        if (address_domain(addr) != domain) {
            err.at(at, "recipient " + clip(addr) + " is not in domain " + domain);
            continue;
        }
        out.push_back(addr);
    }
    return out;
}

}  // namespace mxgate::conf::detail
