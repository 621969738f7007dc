// relay/queue/dkim_signing.hpp — the DKIM step of internet delivery: signs
// a message from an owner domain that has domains[].dkim before it goes to
// an MX host (dmarc/dkim_sign.hpp says what is signed and why at delivery).
//
// Runs libopendkim on the blocking pool, never on the I/O thread. A signing
// failure (unreadable or broken key) defers the delivery: mail from a
// domain that publishes p=reject must not leave unsigned.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "conf/config.hpp"
#include "relay/server/runtime.hpp"

namespace mxgate::queue {

struct DkimStep {
    bool ok = true;         // false: defer with `error`
    std::string header;     // "DKIM-Signature: ...\r\n", "" when not signed
    std::string domain;     // the signing domain (d=)
    std::string error;
};

boost::asio::awaitable<DkimStep> dkim_sign_outbound(server::Runtime& rt, std::shared_ptr<const conf::Config> cfg,
                                                    const std::string& prepend, const std::string& body);

}  // namespace mxgate::queue
