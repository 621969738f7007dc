// tests/fuzz/downgrade_record_fuzz.cpp — libFuzzer target for
// tlspolicy/downgrade_record.cpp: the handshake-failure record the tracker
// reads back from <spool>/state/tls_failures/ and the SPEC §7 "same
// client" rule.
//
// Checked properties (abort on violation):
//  - decode_failure(x) accepted => its client has a network, encode() of it
//    decodes again to the same record, and re-encoding is stable;
//  - any record built from the input's NUL-separated pieces encodes to text
//    that decodes back to it (CR/LF turned into spaces) exactly when its
//    client is an address;
//  - client_network(x), when not empty, ends in /24 or /64 and the network
//    address maps to the same network (idempotent);
//  - same_client is symmetric, and an address is always the same client as
//    itself.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tlspolicy/downgrade_record.hpp"

using namespace mxgate::tlspolicy;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool same(const HandshakeFailure& a, const HandshakeFailure& b) {
    return a.at == b.at && a.client == b.client && a.helo == b.helo && a.error == b.error &&
           a.listener == b.listener && a.offered_versions == b.offered_versions &&
           a.offered_ciphers == b.offered_ciphers;
}

std::string flat(std::string s) {
    for (char& c : s)
        if (c == '\r' || c == '\n') c = ' ';
    return s;
}

void check_network(const std::string& ip) {
    const std::string n = client_network(ip);
    if (n.empty()) return;
    const bool v4 = n.size() > 3 && n.compare(n.size() - 3, 3, "/24") == 0;
    const bool v6 = n.size() > 3 && n.compare(n.size() - 3, 3, "/64") == 0;
    check(v4 || v6);
    check(client_network(n.substr(0, n.size() - 3)) == n);
    check(same_client(ip, "", ip, ""));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    if (const auto f = decode_failure(text)) {
        check(!client_network(f->client).empty());
        const std::string again = encode_failure(*f);
        const auto g = decode_failure(again);
        check(g && same(*f, *g));
        check(encode_failure(*g) == again);
    }

    // Pieces separated by NUL: at, client, helo, error, listener, versions, ciphers.
    std::vector<std::string> p;
    size_t start = 0;
    for (size_t i = 0; i <= text.size() && p.size() < 7; ++i) {
        if (i == text.size() || text[i] == '\0') {
            p.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    p.resize(7);
    HandshakeFailure h;
    h.at = static_cast<int64_t>(p[0].size()) * 977 - 5000;
    h.client = p[1];
    h.helo = p[2];
    h.error = p[3];
    h.listener = p[4];
    h.offered_versions = p[5];
    h.offered_ciphers = p[6];
    const auto back = decode_failure(encode_failure(h));
    const bool is_ip = !client_network(flat(h.client)).empty();
    check(static_cast<bool>(back) == is_ip);
    if (back) {
        HandshakeFailure want = h;
        for (std::string* s : {&want.client, &want.helo, &want.error, &want.listener, &want.offered_versions,
                               &want.offered_ciphers})
            *s = flat(*s);
        check(same(*back, want));
    }

    check_network(p[1]);
    check_network(p[2]);
    check(same_client(p[1], p[3], p[2], p[4]) == same_client(p[2], p[4], p[1], p[3]));
    return 0;
}
