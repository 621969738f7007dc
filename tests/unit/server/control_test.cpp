// tests/unit/server/control_test.cpp — control_execute(): the control
// socket's command dispatch, against a real QueueManager and a fake courier.
#include <catch2/catch.hpp>

#include "relay/server/control.hpp"
#include "tests/unit/queue/queue_test_support.hpp"

using namespace queuetest;

TEST_CASE("control: no queue manager", "[control]") {
    QueueFixture f;
    auto snap = std::make_shared<server::Snapshot>();
    snap->config = f.cfg;
    server::Runtime rt(f.io, f.events, f.spool, f.resolver, snap);
    CHECK(server::control_execute(rt, "flush") == "error queue not running");
    CHECK(server::control_socket_path(*f.cfg) == "/control");
}

TEST_CASE("control: flush, delete, bounce, release", "[control]") {
    QueueFixture f;
    f.courier->fallback = queue::RcptResult::transient;
    const std::string held = f.commit("alice@sender.example", {"h@one.example"});
    REQUIRE(f.spool->hold(held));
    f.start();
    const std::string a = f.submit("alice@sender.example", {"a@one.example"});
    const std::string b = f.submit("alice@sender.example", {"b@one.example"});
    REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 2; }));
    REQUIRE(f.settle());
    auto& rt = *f.rt;

    SECTION("flush") {
        CHECK(server::control_execute(rt, "flush") == "ok flushing the whole queue");
        REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 4; }));
        REQUIRE(f.settle());
        CHECK(server::control_execute(rt, "flush " + a) == "ok flushing " + a);
        REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 5; }));
        REQUIRE(f.settle());
        CHECK(server::control_execute(rt, "flush 0000000000000000000F") ==
              "error no queued message 0000000000000000000F");
        CHECK(server::control_execute(rt, "flush " + held) == "error no queued message " + held);
    }
    SECTION("delete") {
        CHECK(server::control_execute(rt, "delete " + a) == "ok deleted " + a);
        CHECK_FALSE(f.in_spool(a));
        CHECK(server::control_execute(rt, "delete " + a) == "error no message " + a);
        CHECK(server::control_execute(rt, "delete") == "error delete needs a queue id");
        CHECK(server::control_execute(rt, "delete ../../etc/passwd") == "error no message ../../etc/passwd");
        CHECK(f.in_spool(b));
    }
    SECTION("bounce") {
        CHECK(server::control_execute(rt, "bounce " + b) == "ok bounced " + b);
        CHECK_FALSE(f.in_spool(b));
        CHECK(f.count("queue.bounce_queued") == 1);
        CHECK(server::control_execute(rt, "bounce " + b) == "error no message " + b);
        CHECK(server::control_execute(rt, "bounce") == "error bounce needs a queue id");
    }
    SECTION("release") {
        CHECK(server::control_execute(rt, "release " + a) == "error message " + a + " is not held");
        CHECK(server::control_execute(rt, "release " + held) == "ok released " + held);
        REQUIRE(f.run_until([&] { return f.count("delivery.deferred") == 3; }));
        REQUIRE(f.settle());
        const auto calls = f.courier->calls();
        CHECK(calls.back().id == held);
        CHECK(server::control_execute(rt, "release " + held) == "error message " + held + " is not held");
    }
    SECTION("unknown and malformed commands") {
        CHECK(server::control_execute(rt, "frobnicate " + a) == "error unknown command frobnicate");
        CHECK(server::control_execute(rt, "frobnicate") == "error unknown command frobnicate");
        CHECK(server::control_execute(rt, "").rfind("error", 0) == 0);
        CHECK(f.in_spool(a));
        CHECK(f.in_spool(b));
    }
}

TEST_CASE("control: refuses a message being delivered", "[control]") {
    QueueFixture f;
    f.courier->gate_closed = true;
    f.start();
    const std::string id = f.submit("alice@sender.example", {"bob@one.example"});
    REQUIRE(f.run_until([&] { return f.courier->waiting.load() == 1; }));
    CHECK(server::control_execute(*f.rt, "delete " + id) ==
          "error message " + id + " is being delivered; try again");
    CHECK(server::control_execute(*f.rt, "bounce " + id) ==
          "error message " + id + " is being delivered; try again");
    f.courier->gate_closed = false;
    REQUIRE(f.run_until([&] { return f.count("delivery.success") == 1; }));
    REQUIRE(f.settle());
}
