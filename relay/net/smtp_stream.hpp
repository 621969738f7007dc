// relay/net/smtp_stream.hpp — a TCP byte stream that can switch to TLS, with
// an input buffer and a deadline on every operation. Both the SMTP server
// session and the SMTP/LMTP client use it.
//
// Interface:
//   buffered()/consume(n)  bytes received and not yet parsed; the pure
//                          parsers in relay/smtp and relay/client read them
//   fill(timeout)          reads more bytes (at least one) into the buffer
//   write(data, timeout)   writes everything or fails
//   handshake_server/_client  STARTTLS or implicit TLS; the input buffer must
//                          be empty (callers discard it: RFC 3207 §4.2 — no
//                          plaintext survives the handshake)
//   shutdown(timeout)      TLS close_notify (bounded) and socket close
// Errors are values (error_code); a deadline that passes yields
// boost::asio::error::timed_out. Nothing here throws for peer behaviour.
//
// SECURITY: everything read is untrusted. The buffer grows only up to the
// limit the caller passes to fill(); callers decide what is too long.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mxgate::net {

using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

class SmtpStream {
public:
    explicit SmtpStream(tcp::socket socket);
    ~SmtpStream();
    SmtpStream(const SmtpStream&) = delete;
    SmtpStream& operator=(const SmtpStream&) = delete;

    std::string_view buffered() const { return std::string_view(in_).substr(in_pos_); }
    void consume(size_t n);
    void discard_buffer();

    // Reads at least one more byte, unless max_buffer bytes are already
    // buffered (then returns error::no_buffer_space without reading).
    boost::asio::awaitable<error_code> fill(Clock::duration timeout, size_t max_buffer = 1 << 20);
    boost::asio::awaitable<error_code> write(std::string_view data, Clock::duration timeout);

    boost::asio::awaitable<error_code> handshake_server(boost::asio::ssl::context& ctx,
                                                        Clock::duration timeout);
    // `prepare` (optional) runs on the new SSL before the handshake, after
    // SNI (e.g. tlspolicy::arm_dane); false aborts with its error text in
    // last_tls_error() and error::operation_aborted.
    using Prepare = std::function<bool(SSL*, std::string&)>;
    boost::asio::awaitable<error_code> handshake_client(boost::asio::ssl::context& ctx,
                                                        const std::string& sni,
                                                        Clock::duration timeout,
                                                        Prepare prepare = {});
    // Sends close_notify when TLS is up (bounded by timeout), then closes.
    boost::asio::awaitable<void> shutdown(Clock::duration timeout);
    void close();

    bool tls_active() const { return tls_.has_value(); }
    SSL* native_ssl();  // nullptr without TLS
    tcp::socket& socket();
    const std::string& remote_ip() const { return remote_ip_; }
    uint16_t remote_port() const { return remote_port_; }
    const std::string& local_ip() const { return local_ip_; }
    uint16_t local_port() const { return local_port_; }
    // Text of the last TLS error seen by a handshake (OpenSSL reason).
    const std::string& last_tls_error() const { return last_tls_error_; }

private:
    // Arms the deadline timer; the returned guard disarms it. If it fires,
    // the socket's pending operations are cancelled and timed_out_ is set.
    class Deadline;
    // STARTTLS/implicit TLS in either role; sni only for clients.
    boost::asio::awaitable<error_code> handshake(boost::asio::ssl::context& ctx,
                                                 boost::asio::ssl::stream_base::handshake_type type,
                                                 std::string sni, Clock::duration timeout,
                                                 Prepare prepare = {});

    std::string in_;
    size_t in_pos_ = 0;
    std::optional<tcp::socket> plain_;
    std::optional<boost::asio::ssl::stream<tcp::socket>> tls_;
    boost::asio::steady_timer timer_;
    std::shared_ptr<bool> alive_;  // lets a late timer handler see we are gone
    bool timed_out_ = false;
    uint64_t deadline_gen_ = 0;
    std::string remote_ip_, local_ip_;
    uint16_t remote_port_ = 0, local_port_ = 0;
    std::string last_tls_error_;
};

}  // namespace mxgate::net
