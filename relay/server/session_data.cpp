// The SMTP server session: DATA and BDAT (RFC 5321 §4.1.1.4, RFC 3030).
//
// Message bytes stream from the socket through the pure DataReader
// (unstuffing, smuggling and limit checks) into a spool Writer. At the end
// the report decides: a malformed message (bare CR/LF, NUL, over-long line)
// gets 550 5.6.0, an oversized one 552 5.3.4, a loop 554 5.4.6 — and is not
// accepted. Otherwise the writer commits durably (fsync of file and
// directory, off the I/O threads) and only then the session answers 250.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <ctime>

#include "relay/core/offload.hpp"
#include "relay/queue/queue_manager.hpp"
#include "relay/server/received_header.hpp"
#include "relay/server/session_impl.hpp"
#include "relay/smtp/replies.hpp"

namespace mxgate::server {

namespace asio = boost::asio;
namespace replies = smtp::replies;
using core::Event;
using core::Field;

namespace {

// Message bytes are handed to the spool writer in pieces of about this size.
constexpr size_t kSpoolChunk = 64 * 1024;
// Upper bound of unparsed input held while receiving data.
constexpr size_t kMaxDataBuffer = 1 << 20;

// RFC 3848 "with" keywords; A = authenticated (submission).
std::string protocol_name(bool esmtp, bool tls, bool authenticated) {
    if (!esmtp) return tls ? "SMTPS" : "SMTP";
    return std::string(tls ? "ESMTPS" : "ESMTP") + (authenticated ? "A" : "");
}

}  // namespace

bool Session::begin_message() {
    tx_.writer = rt_.spool->begin();
    // Checks on: keep the header block (capture_header) for them; the
    // message itself goes to the spool file as it arrives, as without.
    tx_.capture = inbound_checks_on();
    return tx_.writer != nullptr;
}

void Session::spool_write(std::string& chunk) {
    capture_header(chunk);  // sender binding / inbound checks (session_auth.cpp)

    if (chunk.empty()) return;
    if (tx_.writer && !tx_.writer->write(chunk)) {
        // Remember the failure; the end of data answers 451 4.3.0.
        tx_.writer->abort();
        tx_.writer.reset();
    }
    chunk.clear();
}

asio::awaitable<void> Session::on_data() {
    if (!tx_.active) {
        reply(replies::need_mail());
        co_return;
    }
    if (tx_.bdat_used) {
        reply(replies::bdat_data_mixed());
        co_return;
    }
    if (tx_.rcpts.empty()) {
        reply(replies::no_valid_recipients());
        co_return;
    }
    if (!begin_message()) {
        reply(replies::local_error());
        co_return;
    }
    reply(replies::start_data());
    if (!co_await flush()) co_return;

    smtp::DataReader reader(smtp::DataReader::Mode::data, static_cast<size_t>(cfg_.limits.line_length),
                            cfg_.limits.message_size);
    std::string chunk;
    for (;;) {
        const auto res = reader.feed(stream_.buffered(), chunk);
        stream_.consume(res.consumed);
        if (chunk.size() >= kSpoolChunk) spool_write(chunk);
        if (res.done) break;
        const auto ec = co_await stream_.fill(cfg_.limits.timeouts.data_block, kMaxDataBuffer);
        if (ec) {
            reset_transaction();
            if (ec == asio::error::timed_out) {
                reply(replies::timeout());
                rt_.events->emit(event("session.timeout").set(Field::helo, helo_));
            }
            quit_ = true;
            co_return;
        }
    }
    spool_write(chunk);
    co_await end_of_message(reader.report());
}

asio::awaitable<void> Session::on_bdat(const smtp::Command& c) {
    const auto& a = std::get<smtp::BdatArgs>(c.args);
    // RFC 3030 §2: the chunk is always read, even when it will be refused,
    // or its bytes would be taken for commands.
    const bool usable = tx_.active && !tx_.rcpts.empty();
    if (usable && !tx_.bdat_used) {
        tx_.bdat_used = true;
        if (!begin_message()) {
            reply(replies::local_error());
            quit_ = true;
            co_return;
        }
        tx_.bdat.emplace(smtp::DataReader::Mode::bdat, static_cast<size_t>(cfg_.limits.line_length),
                         cfg_.limits.message_size);
    }
    uint64_t left = a.size;
    std::string chunk;
    while (left > 0) {
        auto avail = stream_.buffered();
        if (avail.empty()) {
            const auto ec = co_await stream_.fill(cfg_.limits.timeouts.data_block, kMaxDataBuffer);
            if (ec) {
                reset_transaction();
                if (ec == asio::error::timed_out) reply(replies::timeout());
                quit_ = true;
                co_return;
            }
            continue;
        }
        const size_t take = static_cast<size_t>(std::min<uint64_t>(left, avail.size()));
        if (usable) {
            tx_.bdat->feed(avail.substr(0, take), chunk);
            if (chunk.size() >= kSpoolChunk) spool_write(chunk);
        }
        stream_.consume(take);
        left -= take;
    }
    if (!usable) {
        reply(tx_.active ? replies::no_valid_recipients() : replies::need_mail());
        co_return;
    }
    spool_write(chunk);
    if (!a.last) {
        reply(replies::bdat_ok(a.size));
        co_return;
    }
    tx_.bdat->finish();
    const smtp::DataReport report = tx_.bdat->report();
    co_await end_of_message(report);
}

asio::awaitable<void> Session::end_of_message(const smtp::DataReport& report) {
    if (auto verdict = replies::data_verdict(report)) {
        std::string reason = report.malformed() ? "malformed message data" : report.too_big ? "message too big" : "mail loop";
        if (report.bare_lf) reason += " (bare LF)";
        if (report.bare_cr) reason += " (bare CR)";
        if (report.nul) reason += " (NUL)";
        if (report.line_too_long) reason += " (line too long)";
        reject_event(*verdict, reason);
        reply(*verdict);
        reset_transaction();
        co_return;
    }
    std::string binding_reason;
    if (auto binding = submission_header_verdict(binding_reason)) {  // session_auth.cpp
        reject_event(*binding, binding_reason);
        reply(*binding);
        reset_transaction();
        co_return;
    }

    if (!tx_.writer) {
        reply(replies::local_error());
        reset_transaction();
        co_return;
    }
    InboundOutcome checks;
    std::string header;  // the header block as it will be spooled
    size_t header_read = 0;
    const bool captured = tx_.capture;
    if (captured) {
        // The checks must judge the From: that is delivered: a header block
        // longer than what was kept is refused, never judged on a part.
        if (tx_.header_truncated) {
            const core::Reply too_big = replies::header_too_big();
            reject_event(too_big, "header section over " + std::to_string(kMaxHeaderCapture) + " octets");
            reply(too_big);
            reset_transaction();  // removes the incoming/ file
            co_return;
        }
        header = std::move(tx_.header);
        header_read = header.size();
        auto checks_op = inbound_checks(header);
        checks = co_await std::move(checks_op);
        if (checks.refuse) {
            reject_event(*checks.refuse, checks.reason);
            reply(*checks.refuse);
            reset_transaction();  // removes the incoming/ file
            co_return;
        }
    }
    // Forged Authentication-Results were removed from the header block.
    const bool rewrite_head = header.size() != header_read;
    spool::Envelope env;
    env.id = tx_.writer->id();
    env.sender = tx_.sender;
    env.recipients = tx_.rcpts;
    env.arrival = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    env.client_ip = stream_.remote_ip();
    env.helo = helo_;
    env.listener = listener_.name;
    env.smtputf8 = tx_.params.smtputf8;
    env.body_8bit = report.eight_bit_body || report.eight_bit_headers ||
                    tx_.params.body == smtp::BodyType::eight_bit_mime;
    env.ret = tx_.params.ret == smtp::RetType::full ? "FULL" : tx_.params.ret == smtp::RetType::hdrs ? "HDRS" : "";
    if (tx_.params.envid) env.envid = *tx_.params.envid;
    env.requiretls = tx_.params.requiretls;
    env.tls_optional = tls_required_no();  // session_requiretls.cpp
    env.size = report.size - (header_read - header.size());

    ReceivedInfo ri;
    ri.helo = helo_;
    ri.client_ip = stream_.remote_ip();
    ri.by_host = cfg_.hostname;
    ri.protocol = protocol_name(esmtp_, stream_.tls_active(), !auth_user_.empty());
    ri.queue_id = env.id;
    if (tls_) {
        ri.tls_version = tls_->version;
        ri.tls_cipher = tls_->cipher;
        ri.tls_bits = tls_->bits;
    }
    if (env.recipients.size() == 1) ri.for_rcpt = env.recipients[0].address;
    ri.when = std::time(nullptr);
    env.prepend = received_header(ri) + checks.prepend;

    // The durable commit blocks on fsync: run it on the blocking pool.
    auto writer = std::move(tx_.writer);
    // (named locals: see the GCC 12 note in relay/core/offload.hpp)
    const bool hold = checks.hold;
    // quarantine: hold commits straight into hold/: never in queue/, so no
    // crash can let a delivery see it.
    const auto dest = hold ? spool::Destination::hold : spool::Destination::queue;
    auto commit_job = [w = writer.get(), &env, &header, header_read, rewrite_head, dest](std::function<void(bool)> done) {
        // Forged Authentication-Results: the file's header block is rewritten first.
        if (rewrite_head && !w->replace_head(header_read, header)) {
            done(false);
            return;
        }
        // File synced and renamed here; the 250 waits for the fsync of the
        // directory (done runs after it), without holding this pool thread.
        w->commit_async(env, dest, std::move(done));
    };
    auto commit_op = core::offload_until(rt_.blocking, std::move(commit_job));
    const bool committed = co_await std::move(commit_op);
    if (!committed) {
        rt_.events->emit(event("queue.write_failed").set(Field::queue_id, env.id));
        reply(replies::local_error());
        reset_transaction();
        co_return;
    }
    ++messages_;
    reply(replies::queued(env.id));
    std::vector<std::string> rcpts;
    for (const auto& r : env.recipients) rcpts.push_back(r.address);
    rt_.events->emit(event("queue.accepted")
                         .set(Field::queue_id, env.id)
                         .set(Field::helo, helo_)
                         .set(Field::sender, env.sender)
                         .set(Field::recipients, std::move(rcpts))
                         .set(Field::size, env.size)
                         .set(Field::tls, tls_ ? tls_->version : std::string("none")));
    tx_ = Transaction{};
    if (hold) {
        // Not enqueued: `mxgate queue release` hands it to delivery.
        rt_.events->emit(event("queue.held")
                             .set(Field::queue_id, env.id)
                             .set(Field::reason, "DMARC quarantine"));
        co_return;
    }
    if (rt_.queue) rt_.queue->enqueue(env);
    if (!tls_) co_await plaintext_accepted(env);  // downgrade detection, session_tls.cpp
}

}  // namespace mxgate::server
