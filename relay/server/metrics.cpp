#include "relay/server/metrics.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>

namespace mxgate::server {

namespace asio = boost::asio;

void Metrics::count_event(const core::Event& e) {
    std::lock_guard lock(mu_);
    ++events_[e.name];
    if (e.name == "policy.reject") ++rejects_[{e.str(core::Field::code), e.str(core::Field::reason)}];
}

void Metrics::set_gauge(const std::string& name, std::function<double()> read) {
    std::lock_guard lock(mu_);
    gauges_[name] = std::move(read);
}

namespace {
std::string label_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') { out += "\\n"; continue; }
        out += c;
    }
    return out;
}
}  // namespace

std::string Metrics::render() const {
    std::lock_guard lock(mu_);
    std::string out;
    out += "# HELP mxgate_events_total Structured log events emitted, by event name.\n";
    out += "# TYPE mxgate_events_total counter\n";
    for (const auto& [name, n] : events_)
        out += "mxgate_events_total{event=\"" + label_escape(name) + "\"} " + std::to_string(n) + "\n";
    out += "# HELP mxgate_rejects_total SMTP rejections by reply code and reason.\n";
    out += "# TYPE mxgate_rejects_total counter\n";
    for (const auto& [key, n] : rejects_)
        out += "mxgate_rejects_total{code=\"" + label_escape(key.first) + "\",reason=\"" +
               label_escape(key.second) + "\"} " + std::to_string(n) + "\n";
    for (const auto& [name, read] : gauges_) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", read());
        out += "# TYPE " + name + " gauge\n" + name + " " + buf + "\n";
    }
    return out;
}

namespace {
asio::awaitable<void> serve_one(asio::ip::tcp::socket sock, Metrics& m) {
    boost::system::error_code ec;
    asio::steady_timer deadline(sock.get_executor());
    deadline.expires_after(std::chrono::seconds(10));
    deadline.async_wait([&sock](boost::system::error_code e) {
        if (!e) sock.close(e);
    });
    asio::streambuf buf(16 * 1024);
    co_await asio::async_read_until(sock, buf, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
        const std::string body = m.render();
        const std::string resp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                                 "Content-Length: " + std::to_string(body.size()) +
                                 "\r\nConnection: close\r\n\r\n" + body;
        co_await asio::async_write(sock, asio::buffer(resp), asio::redirect_error(asio::use_awaitable, ec));
    }
    deadline.cancel();
    sock.close(ec);
}
}  // namespace

asio::awaitable<void> serve_metrics(std::shared_ptr<asio::ip::tcp::acceptor> acceptor, Metrics& m) {
    for (;;) {
        boost::system::error_code ec;
        auto sock = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (!acceptor->is_open()) co_return;
            continue;
        }
        asio::co_spawn(acceptor->get_executor(), serve_one(std::move(sock), m), asio::detached);
    }
}

}  // namespace mxgate::server
