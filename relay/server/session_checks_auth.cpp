// The SMTP server session: SPF and DKIM verdicts for the end-of-data checks
// (session_checks.cpp). The evaluation itself is dmarc/spf_check and
// dmarc/dkim_verify on the bounded check pool.
//
// XXX until the check pool lands on main, SPF and DKIM report "not
// checked": DMARC then sees no aligned identifier (fail under a policy),
// and the Authentication-Results header carries no spf=/dkim= clause.
#include "relay/server/session_impl.hpp"

namespace mxgate::server {

namespace asio = boost::asio;

asio::awaitable<Session::SpfOutcome> Session::evaluate_spf() {
    SpfOutcome out;
    co_return out;
}

asio::awaitable<Session::DkimOutcome> Session::evaluate_dkim(const std::string& message) {
    DkimOutcome out;
    co_return out;
}

}  // namespace mxgate::server
