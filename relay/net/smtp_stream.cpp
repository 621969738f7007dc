#include "relay/net/smtp_stream.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mxgate::net {

namespace asio = boost::asio;
using asio::redirect_error;
using asio::use_awaitable;

// One deadline per operation. The generation counter makes a timer handler
// that was already queued when the operation finished harmless: it only
// cancels the socket if no newer operation has been armed since.
class SmtpStream::Deadline {
public:
    Deadline(SmtpStream& s, Clock::duration timeout) : s_(s) {
        s_.timed_out_ = false;
        const uint64_t gen = ++s_.deadline_gen_;
        s_.timer_.expires_after(timeout);
        std::weak_ptr<bool> alive = s_.alive_;
        SmtpStream* self = &s_;
        s_.timer_.async_wait([alive, self, gen](error_code ec) {
            if (ec || alive.expired() || self->deadline_gen_ != gen) return;
            self->timed_out_ = true;
            error_code ignored;
            self->socket().cancel(ignored);
        });
    }
    ~Deadline() {
        ++s_.deadline_gen_;
        s_.timer_.cancel();
    }
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

private:
    SmtpStream& s_;
};

SmtpStream::SmtpStream(tcp::socket socket)
    : timer_(socket.get_executor()), alive_(std::make_shared<bool>(true)) {
    error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (!ec) {
        auto addr = remote.address();
        if (addr.is_v6() && addr.to_v6().is_v4_mapped())
            addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
        remote_ip_ = addr.to_string();
        remote_port_ = remote.port();
    }
    auto local = socket.local_endpoint(ec);
    if (!ec) {
        local_ip_ = local.address().to_string();
        local_port_ = local.port();
    }
    plain_.emplace(std::move(socket));
    // Non-blocking at the user level too: fill() and write() try the
    // socket directly before they wait (no scheduler round trip, no
    // deadline timer when the kernel takes or has the bytes at once).
    // Asynchronous operations, also TLS's on this socket, are unaffected.
    plain_->non_blocking(true, ec);
}

SmtpStream::~SmtpStream() = default;

tcp::socket& SmtpStream::socket() { return tls_ ? tls_->next_layer() : *plain_; }

SSL* SmtpStream::native_ssl() { return tls_ ? tls_->native_handle() : nullptr; }

void SmtpStream::consume(size_t n) {
    in_pos_ += std::min(n, in_.size() - in_pos_);
    if (in_pos_ == in_.size()) {
        in_.clear();
        in_pos_ = 0;
        // Idle sessions should not pin large buffers (10k idle connections).
        if (in_.capacity() > 64 * 1024) in_.shrink_to_fit();
    }
}

void SmtpStream::discard_buffer() {
    in_.clear();
    in_.shrink_to_fit();
    in_pos_ = 0;
}

asio::awaitable<error_code> SmtpStream::fill(Clock::duration timeout, size_t max_buffer) {
    if (buffered().size() >= max_buffer) co_return asio::error::no_buffer_space;
    if (in_pos_ > 0 && in_pos_ * 2 >= in_.size()) {
        in_.erase(0, in_pos_);
        in_pos_ = 0;
    }
    Deadline deadline(*this, timeout);
    error_code ec;
    // A plain socket waits for readability before read space is allocated,
    // so an idle session holds no buffer. Not with TLS: records already
    // pulled off the socket can sit in OpenSSL's or Asio's buffers, where
    // SSL_pending() does not count them, and the socket would never wake
    // us for them (a session hung until its timeout; tests/unit/server
    // dialogs/starttls_data_records.dialog).
    if (!tls_) {
        for (;;) {
            co_await plain_->async_wait(tcp::socket::wait_read, redirect_error(use_awaitable, ec));
            if (ec) co_return timed_out_ ? error_code(asio::error::timed_out) : ec;
            // Readable: one non-blocking read into a scratch buffer (the
            // read cannot suspend, so one per thread is enough), then only
            // the bytes that came are appended (no 16 KiB zero-fill).
            static thread_local char scratch[16 * 1024];
            const size_t n = plain_->read_some(asio::buffer(scratch), ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) continue;  // spurious wake
            in_.append(scratch, n);
            co_return ec;
        }
    }
    const size_t chunk = 16 * 1024;
    const size_t old = in_.size();
    in_.resize(old + chunk);
    size_t n = 0;
    if (tls_)
        n = co_await tls_->async_read_some(asio::buffer(in_.data() + old, chunk),
                                           redirect_error(use_awaitable, ec));
    else
        n = co_await plain_->async_read_some(asio::buffer(in_.data() + old, chunk),
                                             redirect_error(use_awaitable, ec));
    in_.resize(old + n);
    if (ec && timed_out_) ec = asio::error::timed_out;
    co_return ec;
}

asio::awaitable<error_code> SmtpStream::write(std::string_view data, Clock::duration timeout) {
    error_code ec;
    if (!tls_) {
        // Most writes (replies, commands, a 4 KiB message) fit in the
        // socket buffer: sent here, no deadline needed; the rest waits.
        const size_t n = plain_->write_some(asio::buffer(data.data(), data.size()), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
        else if (ec) co_return ec;
        data.remove_prefix(n);
        if (data.empty()) co_return ec;
    }
    Deadline deadline(*this, timeout);
    if (tls_)
        co_await asio::async_write(*tls_, asio::buffer(data.data(), data.size()),
                                   redirect_error(use_awaitable, ec));
    else
        co_await asio::async_write(*plain_, asio::buffer(data.data(), data.size()),
                                   redirect_error(use_awaitable, ec));
    if (ec && timed_out_) ec = asio::error::timed_out;
    co_return ec;
}

asio::awaitable<error_code> SmtpStream::handshake_server(asio::ssl::context& ctx,
                                                         Clock::duration timeout) {
    auto op = handshake(ctx, asio::ssl::stream_base::server, std::string(), timeout);
    const error_code ec = co_await std::move(op);
    co_return ec;
}

asio::awaitable<error_code> SmtpStream::handshake_client(asio::ssl::context& ctx,
                                                         const std::string& sni,
                                                         Clock::duration timeout,
                                                         Prepare prepare) {
    auto op = handshake(ctx, asio::ssl::stream_base::client, sni, timeout, std::move(prepare));
    const error_code ec = co_await std::move(op);
    co_return ec;
}

asio::awaitable<error_code> SmtpStream::handshake(asio::ssl::context& ctx,
                                                  asio::ssl::stream_base::handshake_type type,
                                                  std::string sni, Clock::duration timeout,
                                                  Prepare prepare) {
    if (tls_) co_return asio::error::already_connected;
    // RFC 3207 §4.2: nothing received before the handshake may be used after it.
    discard_buffer();
    tls_.emplace(std::move(*plain_), ctx);
    plain_.reset();
    if (!sni.empty()) SSL_set_tlsext_host_name(tls_->native_handle(), sni.c_str());
    if (prepare) {
        std::string why;
        if (!prepare(tls_->native_handle(), why)) {
            last_tls_error_ = why;
            co_return asio::error::operation_aborted;
        }
    }
    Deadline deadline(*this, timeout);
    error_code ec;
    co_await tls_->async_handshake(type, redirect_error(use_awaitable, ec));
    if (ec) {
        last_tls_error_ = timed_out_ ? "handshake timed out" : ec.message();
        if (timed_out_) ec = asio::error::timed_out;
    }
    co_return ec;
}

asio::awaitable<void> SmtpStream::shutdown(Clock::duration timeout) {
    if (tls_ && socket().is_open()) {
        Deadline deadline(*this, timeout);
        error_code ec;
        co_await tls_->async_shutdown(redirect_error(use_awaitable, ec));
    }
    close();
}

void SmtpStream::close() {
    error_code ignored;
    if (socket().is_open()) {
        socket().shutdown(tcp::socket::shutdown_both, ignored);
        socket().close(ignored);
    }
}

}  // namespace mxgate::net
