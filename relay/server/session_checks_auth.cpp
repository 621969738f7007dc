// The SMTP server session: SPF and DKIM verdicts for the end-of-data checks
// (session_checks.cpp). The evaluation itself is dmarc/spf_check (libspf2)
// and dmarc/dkim_verify (libopendkim) on the bounded check pool
// (Runtime::checks); a full pool is reported as busy (451 4.3.2).
#include "relay/server/session_impl.hpp"

namespace mxgate::server {

namespace asio = boost::asio;

namespace {
// Bytes of the spool file handed to libopendkim at a time.
constexpr size_t kDkimBlock = 64 * 1024;
}  // namespace

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

asio::awaitable<Session::DkimOutcome> Session::evaluate_dkim() {
    DkimOutcome out;
    if (!cfg_.policy.dkim_verify || !rt_.checks || !tx_.writer) co_return out;
    // The job reads the message back from the spool file in blocks on the
    // check pool and holds the writer alive (dmarc/checks.hpp).
    auto next = [w = tx_.writer, offset = uint64_t{0}](std::string& block) mutable {
        if (!w->read(offset, kDkimBlock, block)) return false;
        offset += block.size();
        return true;
    };
    auto op = rt_.checks->dkim(std::move(next));
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
