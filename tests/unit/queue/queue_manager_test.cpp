// tests/unit/queue/queue_manager_test.cpp — QueueManager over a memory spool
// with a scripted fake Courier, in a real io_context (STYLE §3).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "queue_test_support.hpp"

using namespace queuetest;
using queue::RcptResult;
using spool::RcptState;

namespace {

const std::string kSender = "alice@sender.example";

[[maybe_unused]] bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

spool::QueuedMessage loaded(QueueFixture& f, const std::string& id) {
    auto m = f.spool->load(id);
    REQUIRE(m);
    return *m;
}

}  // namespace

TEST_CASE("queue: delivered message is removed, delivery.success", "[queue]") {
    QueueFixture f;
    f.start();
    const std::string id = f.submit(kSender, {"bob@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    REQUIRE(f.settle());
    const auto calls = f.courier->calls();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].id == id);
    CHECK(calls[0].route.kind == queue::Route::Kind::downstream);
    CHECK(calls[0].route.domain == "one.example");
    CHECK(calls[0].rcpts == std::vector<std::string>{"bob@one.example"});
    CHECK(calls[0].body == "Subject: t\r\n\r\nhello\r\n");
    CHECK_FALSE(f.in_spool(id));
    CHECK(f.qm->queued_count() == 0);
    const auto ev = f.events->named("delivery.success");
    CHECK(ev[0].str(core::Field::queue_id) == id);
    CHECK(strings(ev[0], core::Field::recipients) == std::vector<std::string>{"bob@one.example"});
    CHECK(f.count("delivery.deferred") == 0);
    CHECK(f.count("delivery.bounced") == 0);
    const auto routes = f.qm->status().snapshot();
    REQUIRE(routes.count("downstream:one.example") == 1);
    CHECK(routes.at("downstream:one.example").reachable);
}

TEST_CASE("queue: messages in the spool at start are delivered", "[queue]") {
    QueueFixture f;
    const std::string a = f.commit(kSender, {"a@one.example"});
    const std::string b = f.commit(kSender, {"b@two.example"});
    f.start();
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 2; }));
    REQUIRE(f.settle());
    CHECK_FALSE(f.in_spool(a));
    CHECK_FALSE(f.in_spool(b));
    CHECK(f.courier->call_count() == 2);
}

TEST_CASE("queue: permanent failure bounces to the sender, delivery.bounced", "[queue][bounce]") {
    QueueFixture f;
    f.courier->script("bob@one.example", RcptResult::permanent, "550 5.1.1 <bob@one.example>: no such user");
    // Keep the DSN in the spool: its delivery to the sender defers.
    f.courier->script(kSender, RcptResult::transient, "451 4.4.1 sender's MX down");
    f.start();
    const std::string id = f.submit(kSender, {"bob@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 1; }));  // the DSN's attempt
    REQUIRE(f.settle());
    CHECK_FALSE(f.in_spool(id));
    const auto bounced = f.events->named("delivery.bounced");
    REQUIRE(bounced.size() == 1);
    CHECK(bounced[0].str(core::Field::queue_id) == id);
    CHECK(bounced[0].str(core::Field::reason) == "550 5.1.1 <bob@one.example>: no such user");
    CHECK(f.count("queue.bounce_queued") == 1);

    const auto dsns = f.dsns();
    REQUIRE(dsns.size() == 1);
    const auto& d = dsns[0];
    CHECK(d.envelope.sender.empty());
    REQUIRE(d.envelope.recipients.size() == 1);
    CHECK(d.envelope.recipients[0].address == kSender);
    std::string body;
    REQUIRE(f.spool->read_body(d.envelope.id, body));
    CHECK(body.find("Action: failed") != std::string::npos);
    CHECK(body.find("no such user") != std::string::npos);
    // The DSN goes to the sender's MX, from <>.
    const auto calls = f.courier->calls();
    REQUIRE(calls.size() == 2);
    CHECK(calls[1].route.kind == queue::Route::Kind::mx);
    CHECK(calls[1].route.domain == "sender.example");
    CHECK(calls[1].sender.empty());
    CHECK(calls[1].rcpts == std::vector<std::string>{kSender});
}

TEST_CASE("queue: a null sender's failure is not bounced", "[queue][bounce]") {
    QueueFixture f;
    f.courier->script("bob@one.example", RcptResult::permanent, "550 5.1.1 no such user");
    f.start();
    const std::string id = f.submit("", {"bob@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.bounced") == 1; }));
    REQUIRE(f.settle());
    f.run_for(std::chrono::milliseconds(30));
    CHECK_FALSE(f.in_spool(id));
    CHECK(f.count("queue.bounce_queued") == 0);
    CHECK(f.dsns().empty());
    CHECK(f.courier->call_count() == 1);
    CHECK(f.spool->list(false).empty());
}

TEST_CASE("queue: MAILER-DAEMON sender is not bounced either", "[queue][bounce]") {
    QueueFixture f;
    f.courier->script("bob@one.example", RcptResult::permanent, "550 5.1.1 no such user");
    f.start();
    f.submit("MAILER-DAEMON@sender.example", {"bob@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.bounced") == 1; }));
    REQUIRE(f.settle());
    f.run_for(std::chrono::milliseconds(30));
    CHECK(f.count("queue.bounce_queued") == 0);
    CHECK(f.courier->call_count() == 1);
}

TEST_CASE("queue: transient failure updates the state per queue.retry", "[queue][retry]") {
    QueueFixture f;
    f.courier->script("bob@one.example", RcptResult::transient, "451 4.3.0 try later");
    f.courier->script("bob@one.example", RcptResult::transient, "452 4.2.2 mailbox full");
    f.courier->script("bob@one.example", RcptResult::transient, "451 4.3.0 third");
    f.start();
    const std::string id = f.submit(kSender, {"bob@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 1; }));
    REQUIRE(f.settle());

    auto m = loaded(f, id);
    int64_t now = unix_now();
    CHECK(m.state.attempts == 1);
    CHECK(m.state.rcpt_state.at(0) == RcptState::pending);
    CHECK(m.state.rcpt_reply.at(0) == "451 4.3.0 try later");
    CHECK(m.state.last_error == "451 4.3.0 try later");
    CHECK(m.state.next_attempt >= now + 600 - 2);
    CHECK(m.state.next_attempt <= now + 600 + 1);
    auto ev = f.events->named("delivery.deferred");
    CHECK(ev[0].str(core::Field::reason) == "451 4.3.0 try later");
    CHECK(std::get<int64_t>(*ev[0].get(core::Field::attempts)) == 1);
    // Not retried before its time.
    f.run_for(std::chrono::milliseconds(50));
    CHECK(f.courier->call_count() == 1);
    CHECK(f.qm->queued_count() == 1);

    REQUIRE(f.qm->flush_id(id));
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 2; }));
    REQUIRE(f.settle());
    m = loaded(f, id);
    now = unix_now();
    CHECK(m.state.attempts == 2);
    CHECK(m.state.next_attempt >= now + 1200 - 2);
    CHECK(m.state.next_attempt <= now + 1200 + 1);

    // After the last interval, the last interval again.
    REQUIRE(f.qm->flush_id(id));
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 3; }));
    REQUIRE(f.settle());
    m = loaded(f, id);
    now = unix_now();
    CHECK(m.state.attempts == 3);
    CHECK(m.state.next_attempt >= now + 1200 - 2);
    CHECK(m.state.next_attempt <= now + 1200 + 1);
    CHECK(f.count("delivery.bounced") == 0);
    CHECK(f.count("queue.delay_notice") == 0);

    // Fourth attempt (unscripted) delivers.
    REQUIRE(f.qm->flush_id(id));
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    REQUIRE(f.settle());
    CHECK_FALSE(f.in_spool(id));
}

TEST_CASE("queue: unreachable route is recorded down, then up", "[queue][status]") {
    QueueFixture f;
    f.courier->route_down("downstream:one.example", 1);
    f.start();
    const std::string id = f.submit(kSender, {"bob@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 1; }));
    REQUIRE(f.settle());
    auto routes = f.qm->status().snapshot();
    REQUIRE(routes.count("downstream:one.example") == 1);
    CHECK_FALSE(routes.at("downstream:one.example").reachable);
    CHECK(routes.at("downstream:one.example").last_error == "connect: Connection refused");
    CHECK(loaded(f, id).state.attempts == 1);

    REQUIRE(f.qm->flush_id(id));
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    REQUIRE(f.settle());
    routes = f.qm->status().snapshot();
    CHECK(routes.at("downstream:one.example").reachable);
    CHECK_FALSE(f.in_spool(id));
}

TEST_CASE("queue: mixed per-recipient outcomes; only pending ones are retried", "[queue][lmtp]") {
    QueueFixture f;
    f.courier->script("b@one.example", RcptResult::transient, "452 4.2.2 b over quota");
    f.courier->script("c@one.example", RcptResult::permanent, "550 5.1.1 c unknown");
    f.start();
    const std::string id = f.submit(kSender, {"a@one.example", "b@one.example", "c@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 1; }));
    REQUIRE(f.settle());
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 2; }));  // incl. the DSN
    REQUIRE(f.settle());

    auto m = loaded(f, id);
    REQUIRE(m.state.rcpt_state.size() == 3);
    CHECK(m.state.rcpt_state[0] == RcptState::delivered);
    CHECK(m.state.rcpt_state[1] == RcptState::pending);
    CHECK(m.state.rcpt_state[2] == RcptState::failed);
    CHECK(m.state.attempts == 1);

    const auto success = f.events->named("delivery.success");
    CHECK(strings(success[0], core::Field::recipients) == std::vector<std::string>{"a@one.example"});
    const auto bounced = f.events->named("delivery.bounced");
    REQUIRE(bounced.size() == 1);
    CHECK(strings(bounced[0], core::Field::recipients) == std::vector<std::string>{"c@one.example"});
    const auto deferred = f.events->named("delivery.deferred");
    CHECK(strings(deferred[0], core::Field::recipients) == std::vector<std::string>{"b@one.example"});
    // One DSN, for c only.
    const auto calls0 = f.courier->calls();
    REQUIRE(calls0.size() == 2);
    CHECK(calls0[1].sender.empty());
    CHECK(calls0[1].body.find("c@one.example") != std::string::npos);
    CHECK(calls0[1].body.find("Final-Recipient: rfc822; b@one.example") == std::string::npos);
    CHECK(calls0[1].body.find("Final-Recipient: rfc822; a@one.example") == std::string::npos);

    REQUIRE(f.qm->flush_id(id));
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 3; }));
    REQUIRE(f.settle());
    const auto calls = f.courier->calls();
    REQUIRE(calls.size() == 3);
    CHECK(calls[2].id == id);
    CHECK(calls[2].rcpts == std::vector<std::string>{"b@one.example"});
    CHECK_FALSE(f.in_spool(id));
    CHECK(f.count("delivery.bounced") == 1);  // c was not bounced twice
}

TEST_CASE("queue: two owner domains, each recipient group to its own route", "[queue][route]") {
    QueueFixture f;
    f.start();
    const std::string id = f.submit(kSender, {"x@one.example", "y@two.example", "z@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 2; }));
    REQUIRE(f.settle());
    const auto calls = f.courier->calls();
    REQUIRE(calls.size() == 2);
    std::map<std::string, std::vector<std::string>> by_route;
    for (const auto& c : calls) {
        CHECK(c.route.kind == queue::Route::Kind::downstream);
        by_route[c.route.domain] = c.rcpts;
    }
    CHECK(by_route["one.example"] == std::vector<std::string>{"x@one.example", "z@one.example"});
    CHECK(by_route["two.example"] == std::vector<std::string>{"y@two.example"});
    CHECK_FALSE(f.in_spool(id));
    const auto routes = f.qm->status().snapshot();
    CHECK(routes.count("downstream:one.example") == 1);
    CHECK(routes.count("downstream:two.example") == 1);
}

TEST_CASE("queue: recipient domains are matched case-insensitively to owner domains", "[queue][route]") {
    QueueFixture f;
    f.start();
    f.submit(kSender, {"x@ONE.Example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    REQUIRE(f.settle());
    const auto calls = f.courier->calls();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].route.kind == queue::Route::Kind::downstream);
    CHECK(calls[0].route.domain == "one.example");
}

// One home box down must not hold back the recipients of another owner
// domain in the same message (they are separate routes). This was a bug:
// an entry was routed by its first pending domain only, and a deferral
// postponed the whole message; now each pending domain has its own due time.
TEST_CASE("queue: a deferral on one route does not starve the message's other route",
          "[queue][route]") {
    QueueFixture f;
    f.courier->route_down("downstream:one.example", 100);
    f.start();
    const std::string id = f.submit(kSender, {"x@one.example", "y@two.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") >= 1; }));
    REQUIRE(f.settle());
    f.run_until([&] { return f.count("delivery.success") == 1; }, std::chrono::milliseconds(500));
    CHECK(f.count("delivery.success") == 1);
    bool two_tried = false;
    for (const auto& c : f.courier->calls())
        if (c.route.domain == "two.example") two_tried = true;
    CHECK(two_tried);
    auto m = loaded(f, id);
    CHECK(m.state.rcpt_state.at(0) == RcptState::pending);
    CHECK(m.state.rcpt_state.at(1) == RcptState::delivered);
}

TEST_CASE("queue: max_lifetime passed -> the pending recipients bounce", "[queue][bounce]") {
    QueueFixture f;
    f.courier->script("bob@one.example", RcptResult::transient, "451 4.3.0 still down");
    f.start();
    const std::string id = f.submit(kSender, {"bob@one.example"}, 25 * 3600);  // max_lifetime 24h
    REQUIRE(f.run_until([&] { return f.count("delivery.bounced") == 1; }));
    REQUIRE(f.run_until([&] { return f.courier->call_count() == 2; }));  // the DSN
    REQUIRE(f.settle());
    CHECK_FALSE(f.in_spool(id));
    const auto b = f.events->named("delivery.bounced");
    CHECK(b[0].str(core::Field::reason).find("max_lifetime") != std::string::npos);
    CHECK(strings(b[0], core::Field::recipients) == std::vector<std::string>{"bob@one.example"});
    const auto calls = f.courier->calls();
    CHECK(calls[1].sender.empty());
    CHECK(calls[1].rcpts == std::vector<std::string>{kSender});
    CHECK(calls[1].body.find("Action: failed") != std::string::npos);
    CHECK(calls[1].body.find("451 4.3.0 still down") != std::string::npos);
    CHECK(f.count("queue.delay_notice") == 0);  // expiry is not a delay
}

TEST_CASE("queue: max_lifetime not reached -> no bounce (control)", "[queue][bounce]") {
    QueueFixture f;
    f.courier->script("bob@one.example", RcptResult::transient, "451 4.3.0 still down");
    f.start();
    const std::string id = f.submit(kSender, {"bob@one.example"}, 23 * 3600);
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 1; }));
    REQUIRE(f.settle());
    CHECK(f.in_spool(id));
    CHECK(f.count("delivery.bounced") == 0);
}

TEST_CASE("queue: delay_warning -> exactly one delay notice", "[queue][bounce]") {
    QueueFixture f;
    for (int i = 0; i < 3; ++i) f.courier->script("bob@one.example", RcptResult::transient, "451 4.3.0 later");
    f.start();
    const std::string id = f.submit(kSender, {"bob@one.example"}, 5 * 3600);  // delay_warning 4h
    REQUIRE(f.run_until([&] { return f.count("queue.delay_notice") == 1; }));
    REQUIRE(f.run_until([&] { return f.courier->call_count() == 2; }));
    REQUIRE(f.settle());
    CHECK(loaded(f, id).state.delay_warned);
    for (int round = 2; round <= 3; ++round) {
        REQUIRE(f.qm->flush_id(id));
        REQUIRE(f.run_until([&] { return static_cast<int>(f.count("delivery.deferred")) == round; }));
        REQUIRE(f.settle());
    }
    f.run_for(std::chrono::milliseconds(30));
    CHECK(f.count("queue.delay_notice") == 1);
    CHECK(f.count("delivery.bounced") == 0);
    CHECK(f.in_spool(id));
    int notices = 0;
    for (const auto& c : f.courier->calls())
        if (c.sender.empty()) {
            ++notices;
            CHECK(c.body.find("Action: delayed") != std::string::npos);
            CHECK(c.rcpts == std::vector<std::string>{kSender});
        }
    CHECK(notices == 1);
}

TEST_CASE("queue: before delay_warning -> no notice (control)", "[queue][bounce]") {
    QueueFixture f;
    f.courier->script("bob@one.example", RcptResult::transient, "451 4.3.0 later");
    f.start();
    const std::string id = f.submit(kSender, {"bob@one.example"}, 3 * 3600);
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 1; }));
    REQUIRE(f.settle());
    f.run_for(std::chrono::milliseconds(30));
    CHECK(f.count("queue.delay_notice") == 0);
    CHECK_FALSE(loaded(f, id).state.delay_warned);
}

TEST_CASE("queue: flush_domain and flush_id make entries due", "[queue][flush]") {
    QueueFixture f;
    f.courier->script("a@one.example", RcptResult::transient, "451 one");
    f.courier->script("b@two.example", RcptResult::transient, "451 two");
    f.start();
    const std::string a = f.submit(kSender, {"a@one.example"});
    const std::string b = f.submit(kSender, {"b@two.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 2; }));
    REQUIRE(f.settle());
    CHECK(f.courier->call_count() == 2);

    CHECK(f.qm->flush_domain("nothing.example") == 0);
    f.run_for(std::chrono::milliseconds(30));
    CHECK(f.courier->call_count() == 2);

    CHECK(f.qm->flush_domain("two.example") == 1);
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    REQUIRE(f.settle());
    auto calls = f.courier->calls();
    REQUIRE(calls.size() == 3);
    CHECK(calls[2].id == b);
    CHECK_FALSE(f.in_spool(b));
    CHECK(f.in_spool(a));

    CHECK_FALSE(f.qm->flush_id("0000000000000000000F"));  // unknown
    CHECK_FALSE(f.qm->flush_id("../../etc/passwd"));
    CHECK(f.qm->flush_id(a));
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 2; }));
    REQUIRE(f.settle());
    CHECK_FALSE(f.in_spool(a));
    CHECK(f.qm->queued_count() == 0);
}

TEST_CASE("queue: flush_all retries everything", "[queue][flush]") {
    QueueFixture f;
    f.courier->script("a@one.example", RcptResult::transient, "451 one");
    f.courier->script("b@two.example", RcptResult::transient, "451 two");
    f.start();
    f.submit(kSender, {"a@one.example"});
    f.submit(kSender, {"b@two.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 2; }));
    REQUIRE(f.settle());
    f.qm->flush_all();
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 2; }));
    REQUIRE(f.settle());
    CHECK(f.qm->queued_count() == 0);
}

TEST_CASE("queue: delete_message", "[queue][admin]") {
    QueueFixture f;
    f.courier->script("bob@one.example", RcptResult::transient, "451 later");
    f.start();
    const std::string id = f.submit(kSender, {"bob@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 1; }));
    REQUIRE(f.settle());
    std::string err;
    REQUIRE(f.qm->delete_message(id, err));
    CHECK_FALSE(f.in_spool(id));
    CHECK(f.qm->queued_count() == 0);
    CHECK(f.count("queue.deleted") == 1);
    CHECK(f.count("queue.bounce_queued") == 0);  // deleting never bounces
    CHECK_FALSE(f.qm->delete_message(id, err));
    CHECK(err == "no message " + id);
    CHECK_FALSE(f.qm->flush_id(id));
    f.run_for(std::chrono::milliseconds(20));
    CHECK(f.courier->call_count() == 1);
}

TEST_CASE("queue: admin actions refuse a message being delivered", "[queue][admin]") {
    QueueFixture f;
    f.courier->gate_closed = true;
    f.start();
    const std::string id = f.submit(kSender, {"bob@one.example"});
    REQUIRE(f.run_until([&] { return f.courier->waiting.load() == 1; }));
    CHECK(f.qm->busy());
    std::string err;
    CHECK_FALSE(f.qm->delete_message(id, err));
    CHECK(err.find("being delivered") != std::string::npos);
    err.clear();
    CHECK_FALSE(f.qm->bounce_message(id, err));
    CHECK(err.find("being delivered") != std::string::npos);
    CHECK(f.in_spool(id));
    f.courier->gate_closed = false;
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    REQUIRE(f.settle());
    CHECK_FALSE(f.in_spool(id));
    CHECK(f.count("queue.deleted") == 0);
}

TEST_CASE("queue: bounce_message bounces the pending recipients now", "[queue][admin]") {
    QueueFixture f;
    f.courier->script("a@one.example", RcptResult::transient, "451 4.3.0 home box down");
    f.courier->script("b@one.example", RcptResult::transient, "451 4.3.0 home box down");
    f.start();
    const std::string id = f.submit(kSender, {"a@one.example", "b@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 1; }));
    REQUIRE(f.settle());
    std::string err;
    REQUIRE(f.qm->bounce_message(id, err));
    CHECK_FALSE(f.in_spool(id));
    CHECK(f.qm->queued_count() <= 1);  // only the DSN may be queued
    const auto b = f.events->named("delivery.bounced");
    REQUIRE(b.size() == 1);
    CHECK(b[0].str(core::Field::reason) == "bounced by the administrator");
    CHECK(strings(b[0], core::Field::recipients) == std::vector<std::string>{"a@one.example", "b@one.example"});
    REQUIRE(f.run_until([&] { return f.courier->call_count() == 2; }));
    REQUIRE(f.settle());
    const auto calls = f.courier->calls();
    CHECK(calls[1].sender.empty());
    CHECK(calls[1].rcpts == std::vector<std::string>{kSender});
    INFO(calls[1].body);
    // The human-readable part wraps long lines; check both halves.
    CHECK(calls[1].body.find("<a@one.example>: message bounced by the administrator; last error: 451 4.3.0") !=
          std::string::npos);
    CHECK(calls[1].body.find("home box down") != std::string::npos);
    CHECK_FALSE(f.qm->bounce_message(id, err));
    CHECK(err == "no message " + id);
}

TEST_CASE("queue: release_message puts a held message back in the queue", "[queue][admin]") {
    QueueFixture f;
    const std::string id = f.commit(kSender, {"bob@one.example"});
    REQUIRE(f.spool->hold(id));
    f.start();
    f.run_for(std::chrono::milliseconds(50));
    CHECK(f.courier->call_count() == 0);  // held: not delivered
    CHECK(f.qm->queued_count() == 0);
    CHECK_FALSE(f.qm->flush_id(id));

    std::string err;
    REQUIRE(f.qm->release_message(id, err));
    CHECK(f.count("queue.released") == 1);
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    REQUIRE(f.settle());
    CHECK_FALSE(f.in_spool(id));

    const std::string other = f.submit(kSender, {"x@one.example"});
    REQUIRE(f.settle());
    CHECK_FALSE(f.qm->release_message(id, err));
    CHECK(err == "message " + id + " is not held");
    CHECK_FALSE(f.qm->release_message("nonsense", err));
    (void)other;
}

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        std::string t = "/tmp/mxgate-queue-test-XXXXXX";
        REQUIRE(::mkdtemp(t.data()));
        path = t;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};
}  // namespace

TEST_CASE("queue: a corrupt spool entry is quarantined at start, queue.corrupt", "[queue][corrupt]") {
    TempDir dir;
    auto sp = spool::open_file_spool(dir.path);
    QueueFixture f(sp);
    f.cfg->spool = dir.path;
    const std::string good = f.commit(kSender, {"bob@one.example"});
    const std::string bad = spool::new_queue_id();
    {
        std::ofstream out(dir.path + "/queue/" + bad, std::ios::binary);
        out << "Subject: x\r\n\r\nno envelope, no trailer\r\n";
    }
    REQUIRE(std::filesystem::exists(dir.path + "/queue/" + bad));
    f.start();
    const auto corrupt = f.events->named("queue.corrupt");
    REQUIRE(corrupt.size() == 1);
    CHECK(corrupt[0].str(core::Field::queue_id) == bad);
    CHECK(corrupt[0].str(core::Field::path) == dir.path + "/corrupt/" + bad);
    CHECK_FALSE(std::filesystem::exists(dir.path + "/queue/" + bad));
    CHECK(std::filesystem::exists(dir.path + "/corrupt/" + bad));
    // The good message is unaffected and delivered.
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    REQUIRE(f.settle());
    const auto calls = f.courier->calls();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].id == good);
    CHECK_FALSE(f.in_spool(good));
    // The route status file is written under the spool.
    CHECK(queue::DownstreamStatus::read(dir.path + "/state/routes").count("downstream:one.example") == 1);
}

TEST_CASE("queue: NOTIFY=SUCCESS gets relayed/delivered notices only when the next hop lacks DSN",
          "[queue][dsn][success]") {
    struct Case {
        bool peer_dsn, lmtp;
        const char* action;  // nullptr: no notice
    };
    for (const Case c : {Case{false, false, "relayed"}, Case{false, true, "delivered"}, Case{true, false, nullptr},
                         Case{true, true, nullptr}}) {
        CAPTURE(c.peer_dsn, c.lmtp);
        QueueFixture f;
        f.courier->peer_dsn = c.peer_dsn;
        f.courier->lmtp = c.lmtp;
        // Keep the notice in the spool: its delivery to the sender defers.
        f.courier->script(kSender, RcptResult::transient, "451 4.4.1 sender's MX down");
        f.start();
        auto w = f.spool->begin();
        REQUIRE(w->write("Subject: t\r\n\r\nSECRET-BODY\r\n"));
        spool::Envelope env;
        env.sender = kSender;
        env.arrival = unix_now();
        env.envid = "ENV123";
        env.recipients.push_back(spool::Recipient{"bob@one.example", "rfc822;bob@one.example",
                                                  spool::RcptState::pending, "", spool::notify::success});
        env.recipients.push_back(spool::Recipient{"carol@one.example", "", spool::RcptState::pending, ""});
        env.recipients.push_back(spool::Recipient{"dave@one.example", "", spool::RcptState::pending, "",
                                                  spool::notify::success | spool::notify::failure});
        REQUIRE(w->commit(env));
        const std::string id = w->id();
        f.qm->enqueue(id);
        REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
        if (c.action) REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 1; }));
        REQUIRE(f.settle());
        CHECK_FALSE(f.in_spool(id));
        const auto dsns = f.dsns();
        if (!c.action) {
            CHECK(dsns.empty());
            CHECK(f.count("queue.success_notice") == 0);
            continue;
        }
        REQUIRE(dsns.size() == 1);
        CHECK(f.count("queue.success_notice") == 1);
        CHECK(dsns[0].envelope.sender.empty());
        REQUIRE(dsns[0].envelope.recipients.size() == 1);
        CHECK(dsns[0].envelope.recipients[0].address == kSender);
        std::string body;
        REQUIRE(f.spool->read_body(dsns[0].envelope.id, body));
        CHECK(body.find(std::string("Action: ") + c.action) != std::string::npos);
        CHECK(body.find("Final-Recipient: rfc822; bob@one.example") != std::string::npos);
        CHECK(body.find("Final-Recipient: rfc822; dave@one.example") != std::string::npos);
        CHECK(body.find("carol@one.example") == std::string::npos);  // NOTIFY not given: no success notice
        CHECK(body.find("Original-Envelope-Id: ENV123") != std::string::npos);
        CHECK(body.find("Remote-MTA: dns; fake.example") != std::string::npos);
        CHECK(body.find("SECRET-BODY") == std::string::npos);
    }
}

TEST_CASE("queue: an idle worker keeps its connection kLinger for the next message, then closes it",
          "[queue][linger]") {
    QueueFixture f;
    f.courier->keep_links = true;
    f.start();
    const auto a = f.submit("s@x.example", {"u@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    f.run_for(std::chrono::milliseconds(300));
    CHECK(f.courier->closes() == 0);  // still lingering
    const auto b = f.submit("s@x.example", {"v@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 2; }));
    CHECK(f.courier->links_made == 1);  // the second message reused the connection
    CHECK_FALSE(f.in_spool(a));
    CHECK_FALSE(f.in_spool(b));
    // kLinger after the last message the connection is closed.
    CHECK(f.run_until([&] { return f.courier->closes() == 1; },
                      queue::QueueManager::kLinger + std::chrono::milliseconds(1000)));
    // A message after that opens a new one.
    f.submit("s@x.example", {"w@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 3; }));
    CHECK(f.courier->links_made == 2);
}

TEST_CASE("queue: stop() ends lingering workers at once", "[queue][linger]") {
    QueueFixture f;
    f.courier->keep_links = true;
    f.start();
    f.submit("s@x.example", {"u@one.example"});
    f.submit("s@x.example", {"u@two.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 2; }));
    f.run_for(std::chrono::milliseconds(50));
    CHECK(f.courier->closes() == 0);
    f.qm->stop();
    CHECK(f.run_until([&] { return f.courier->closes() == 2; }, std::chrono::milliseconds(500)));
}

TEST_CASE("queue: no linger without an open connection (control)", "[queue][linger]") {
    QueueFixture f;
    f.start();  // keep_links false: the courier reports no open connection
    f.submit("s@x.example", {"u@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    CHECK(f.run_until([&] { return f.courier->closes() == 1; }, std::chrono::milliseconds(500)));
}
