// conf/system_hostname.cpp — the default `hostname`: the system's fully
// qualified name, as gethostname(2) plus getaddrinfo(AI_CANONNAME) give it
// (what Postfix's myhostname defaults to).
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/detail.hpp"

namespace mxgate::conf::detail {
namespace {

std::optional<std::string> lookup_fqdn() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return std::nullopt;
    std::string name = buf;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = AI_CANONNAME;
    addrinfo* res = nullptr;
    if (getaddrinfo(name.c_str(), nullptr, &hints, &res) == 0 && res != nullptr) {
        if (res->ai_canonname != nullptr && res->ai_canonname[0] != '\0') name = res->ai_canonname;
        freeaddrinfo(res);
    }
    name = lower(name);
    if (!domain_name_problem(name).empty()) return std::nullopt;
    return name;
}

}  // namespace

std::optional<std::string> system_fqdn() {
    // XXX Resolved once per process: getaddrinfo may block on DNS, and a
    // reload (or the config fuzzer, once per input) should not pay for it
    // again. A renamed host needs a restart or an explicit `hostname`.
    static const std::optional<std::string> fqdn = lookup_fqdn();
    return fqdn;
}

}  // namespace mxgate::conf::detail
