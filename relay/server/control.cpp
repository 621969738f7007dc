#include "relay/server/control.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <istream>
#include <sstream>

#include "relay/queue/queue_manager.hpp"
#include "relay/queue/tlsrpt_sender.hpp"
#include "relay/report/dmarc_sender.hpp"

namespace mxgate::server {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

std::string control_socket_path(const conf::Config& cfg) { return cfg.spool + "/control"; }

local::acceptor bind_control(asio::io_context& io, const std::string& path) {
    ::unlink(path.c_str());  // a stale socket from a killed daemon
    local::acceptor acc(io);
    boost::system::error_code ec;
    acc.open(local(), ec);
    const mode_t old = ::umask(0077);
    if (!ec) acc.bind(local::endpoint(path), ec);
    ::umask(old);
    if (!ec) acc.listen(16, ec);
    if (ec) throw std::runtime_error("control socket " + path + ": " + ec.message());
    return acc;
}

std::string control_execute(Runtime& rt, const std::string& line) {
    std::istringstream in(line);
    std::string verb, id;
    in >> verb >> id;
    if (!rt.queue) return "error queue not running";
    std::string err;
    if (verb == "flush") {
        if (id.empty()) {
            rt.queue->flush_all();
            return "ok flushing the whole queue";
        }
        return rt.queue->flush_id(id) ? "ok flushing " + id : "error no queued message " + id;
    }
    if (verb != "delete" && verb != "bounce" && verb != "release") return "error unknown command " + verb;
    if (id.empty()) return "error " + verb + " needs a queue id";
    if (verb == "delete") return rt.queue->delete_message(id, err) ? "ok deleted " + id : "error " + err;
    if (verb == "bounce") return rt.queue->bounce_message(id, err) ? "ok bounced " + id : "error " + err;
    return rt.queue->release_message(id, err) ? "ok released " + id : "error " + err;
}

namespace {
asio::awaitable<void> control_session(Runtime& rt, local::socket sock) {
    boost::system::error_code ec;
    asio::streambuf buf(4096);
    co_await asio::async_read_until(sock, buf, "\n", asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    std::istream is(&buf);
    std::string line;
    std::getline(is, line);
    std::string answer;
    if (line == "tlsrpt-send") {
        // TLS-RPT now, today included (docs/tlsrpt.md); asynchronous, so
        // not in control_execute.
        if (!rt.tlsrpt) {
            answer = "error TLS-RPT is not running\n";
        } else {
            auto pass = rt.tlsrpt->send_due(true);
            const std::string summary = co_await std::move(pass);
            answer = "ok " + summary + "\n";
        }
    } else if (line == "dmarc-report-now") {
        // DMARC aggregate reports now (docs/dmarc-reports.md): waits for
        // the pass (DNS checks, spool commits), so not in control_execute.
        auto op = report::control_dmarc_report(rt);
        answer = co_await std::move(op);
        answer += "\n";
    } else {
        answer = control_execute(rt, line) + "\n";
    }
    co_await asio::async_write(sock, asio::buffer(answer), asio::redirect_error(asio::use_awaitable, ec));
}
}  // namespace

asio::awaitable<void> serve_control(Runtime& rt, local::acceptor& acc) {
    for (;;) {
        boost::system::error_code ec;
        local::socket sock = co_await acc.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (!acc.is_open()) co_return;
            continue;
        }
        asio::co_spawn(acc.get_executor(), control_session(rt, std::move(sock)), asio::detached);
    }
}

std::optional<std::string> control_request(const std::string& path, const std::string& line) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) {
        ::close(fd);
        return std::nullopt;
    }
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(fd);
        return std::nullopt;
    }
    const std::string msg = line + "\n";
    if (::write(fd, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) {
        ::close(fd);
        return std::nullopt;
    }
    std::string answer;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') answer += c;
    ::close(fd);
    return answer;
}

}  // namespace mxgate::server
