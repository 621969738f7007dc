// relay/queue/dkim_signing.cpp — see dkim_signing.hpp.
#include "relay/queue/dkim_signing.hpp"

#include "dmarc/dkim_sign.hpp"
#include "relay/core/offload.hpp"

namespace mxgate::queue {

boost::asio::awaitable<DkimStep> dkim_sign_outbound(server::Runtime& rt, std::shared_ptr<const conf::Config> cfg,
                                                    const std::string& prepend, const std::string& body) {
    const conf::Domain* signer = dmarc::dkim_signer_for(*cfg, prepend, body);
    if (signer == nullptr) co_return DkimStep{};
    // `cfg` keeps *signer alive; prepend and body outlive this coroutine.
    auto work = [cfg, signer, &prepend, &body]() {
        DkimStep s;
        s.domain = signer->name;
        auto header = dmarc::sign_message(*signer, prepend, body, s.error);
        if (header) {
            s.header = std::move(*header);
        } else {
            s.ok = false;
            s.error = "DKIM signing for " + signer->name + " failed: " + s.error;
        }
        return s;
    };
    auto op = core::offload(rt.blocking, std::move(work));
    DkimStep step = co_await std::move(op);
    co_return step;
}

}  // namespace mxgate::queue
