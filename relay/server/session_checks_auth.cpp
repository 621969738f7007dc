// The SMTP server session: SPF and DKIM verdicts for the end-of-data checks
// (session_checks.cpp). The evaluation itself is dmarc/spf_check (libspf2)
// and dmarc/dkim_verify (libopendkim) on the bounded check pool
// (Runtime::checks); a full pool is reported as busy (451 4.3.2).
#include "relay/server/session_impl.hpp"

namespace mxgate::server {

namespace asio = boost::asio;

asio::awaitable<Session::SpfOutcome> Session::evaluate_spf() {
    SpfOutcome out;
    if (!cfg_.policy.spf || !rt_.checks) co_return out;
    dmarc::SpfInput in;
    in.client_ip = stream_.remote_ip();
    in.helo = helo_;
    in.sender = tx_.sender;  // "" = null sender: the HELO identity is checked
    in.receiver = cfg_.hostname;
    auto op = rt_.checks->spf(std::move(in));
    std::optional<dmarc::SpfVerdict> v = co_await std::move(op);
    if (!v) {
        out.busy = true;
        co_return out;
    }
    out.checked = true;
    out.verdict = std::move(*v);
    co_return out;
}

asio::awaitable<Session::DkimOutcome> Session::evaluate_dkim(const std::string& message) {
    DkimOutcome out;
    if (!cfg_.policy.dkim_verify || !rt_.checks) co_return out;
    std::string copy = message;  // the job owns its input (dmarc/checks.hpp)
    auto op = rt_.checks->dkim(std::move(copy));
    std::optional<dmarc::DkimVerdicts> v = co_await std::move(op);
    if (!v) {
        out.busy = true;
        co_return out;
    }
    out.checked = true;
    out.verdicts = std::move(*v);
    co_return out;
}

}  // namespace mxgate::server
