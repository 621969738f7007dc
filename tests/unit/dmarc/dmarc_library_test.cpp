// What Debian 12's libopendmarc (1.4.2) decides by itself, kept as a test
// so the reason for mxgate's own evaluation (dmarc/dmarc_eval.hpp) stays
// visible: if an upgrade fixes the library, the first CHECK here fails and
// the work-around can be revisited.
#include <catch2/catch.hpp>

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

extern "C" {
#include <opendmarc/dmarc.h>
}

#include "dmarc/dmarc_record.hpp"

namespace {

int library_policy(const char* from, const char* record, const char* dkim_domain) {
    std::string err;
    (void)mxgate::dmarc::parse_dmarc_record("v=DMARC1; p=none", err);  // library initialised once
    u_char ip[] = "192.0.2.1";
    DMARC_POLICY_T* c = opendmarc_policy_connect_init(ip, DMARC_POLICY_IP_TYPE_IPV4);
    std::string f = from, r = record, d = dkim_domain, org = "bank.test", sel = "s1";
    opendmarc_policy_store_from_domain(c, reinterpret_cast<u_char*>(f.data()));
    opendmarc_policy_store_dmarc(c, reinterpret_cast<u_char*>(r.data()), reinterpret_cast<u_char*>(org.data()),
                                 reinterpret_cast<u_char*>(org.data()));
    opendmarc_policy_store_dkim(c, reinterpret_cast<u_char*>(d.data()), reinterpret_cast<u_char*>(sel.data()),
                                DMARC_POLICY_DKIM_OUTCOME_PASS, nullptr);
    const int p = opendmarc_get_policy_to_enforce(c);
    opendmarc_policy_connect_shutdown(c);
    return p;
}

}  // namespace

TEST_CASE("libopendmarc 1.4.2: strict DKIM alignment passes a parent d= (library bug, worked around)") {
    // From: sub.bank.test, d=bank.test, adkim=s: RFC 7489 §3.1.1 says not aligned.
    CHECK(library_policy("sub.bank.test", "v=DMARC1; p=reject; adkim=s", "bank.test") == DMARC_POLICY_PASS);
    // The child d= case it does get right.
    CHECK(library_policy("bank.test", "v=DMARC1; p=reject; adkim=s", "mail.bank.test") == DMARC_POLICY_REJECT);
}
