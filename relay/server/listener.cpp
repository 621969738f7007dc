#include "relay/server/listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <stdexcept>

#include "relay/server/listener_set.hpp"
#include "relay/server/session.hpp"

namespace mxgate::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

tcp::acceptor bind_listener(asio::io_context& io, const conf::HostPort& at, const std::string& what) {
    boost::system::error_code ec;
    std::string host = at.host;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const auto addr = asio::ip::make_address(host, ec);
    if (ec) throw std::runtime_error(what + ": address '" + at.host + "' is not an IP address");
    const tcp::endpoint ep(addr, at.port);
    tcp::acceptor acc(io);
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
    // "[::]" listens on IPv4 too, as administrators expect from Postfix's "all".
    if (!ec && addr.is_v6() && addr.to_v6().is_unspecified()) acc.set_option(asio::ip::v6_only(false), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(1024, ec);
    if (ec) throw std::runtime_error(what + ": cannot listen on " + at.text() + ": " + ec.message());
    return acc;
}

namespace {

// Over a connection limit: one 421 line, best effort, then close.
asio::awaitable<void> refuse(tcp::socket sock, std::string text) {
    boost::system::error_code ec;
    asio::steady_timer t(sock.get_executor());
    t.expires_after(std::chrono::seconds(5));
    t.async_wait([&sock](boost::system::error_code e) {
        if (!e) sock.close(e);
    });
    co_await asio::async_write(sock, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
    t.cancel();
    sock.close(ec);
}

// name is read at each accept: a reload may rename the listener.
asio::awaitable<void> accept_on(Runtime& rt, const std::string& name, tcp::acceptor& acceptor) {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket sock(asio::make_strand(rt.io));
        co_await acceptor.async_accept(sock, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (!acceptor.is_open() || rt.draining) co_return;
            // EMFILE and friends: back off briefly instead of spinning.
            asio::steady_timer t(rt.io);
            t.expires_after(std::chrono::milliseconds(100));
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        sock.set_option(tcp::no_delay(true), ec);
        const std::string listener_name = name;
        auto snap = rt.snapshot();
        const auto& lim = snap->config->limits;
        auto remote = sock.remote_endpoint(ec);
        std::string ip;
        if (!ec) {
            auto a = remote.address();
            if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
            ip = a.to_string();
        }
        ConnectionLimits::Refusal why{};
        auto slot = rt.connections.acquire(ip, lim.connections, lim.connections_per_ip, why);
        if (!slot) {
            const char* reason = why == ConnectionLimits::Refusal::total ? "too many connections"
                                                                           : "too many connections from your address";
            rt.events->emit(core::Event("policy.reject")
                                .set(core::Field::client, ip)
                                .set(core::Field::listener, listener_name)
                                .set(core::Field::code, "421")
                                .set(core::Field::reason, reason));
            const auto ex = sock.get_executor();
            asio::co_spawn(ex, refuse(std::move(sock), "421 4.7.0 " + snap->config->hostname + " Error: " + reason + "\r\n"),
                           asio::detached);
            continue;
        }
        const auto ex = sock.get_executor();
        asio::co_spawn(ex, run_session(rt, snap, listener_name, std::move(sock), std::move(slot)),
                       [&rt, listener_name](std::exception_ptr e) {
                           if (!e) return;
                           // A bug, not peer behaviour: log it and keep serving.
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& ex) {
                               rt.events->emit(core::Event("session.crashed")
                                                   .set(core::Field::listener, listener_name)
                                                   .set(core::Field::error, ex.what()));
                           }
                       });
    }
}

}  // namespace

asio::awaitable<void> accept_loop(Runtime& rt, std::string listener_name, tcp::acceptor& acceptor) {
    auto op = accept_on(rt, listener_name, acceptor);
    co_await std::move(op);
}

asio::awaitable<void> accept_loop(Runtime& rt, std::shared_ptr<BoundListener> listener) {
    auto op = accept_on(rt, listener->name, listener->acceptor);
    co_await std::move(op);
}

}  // namespace mxgate::server
