// tests/unit/spool/memory_spool_test.cpp — the memory spool keeps the
// file spool's contract (so tests written against it hold for the real one).
#include <catch2/catch.hpp>

#include "relay/spool/spool.hpp"
#include "spool_test_util.hpp"

using namespace mxgate::spool;

TEST_CASE("memory spool: commit, load, update, hold, release, remove", "[memory]") {
    auto sp = make_memory_spool();
    auto w = sp->begin();
    std::string id = w->id();
    REQUIRE(w->write("Subject: x\r\n\r\n"));
    REQUIRE(w->write("body\r\n"));
    CHECK_FALSE(sp->load(id));  // not visible before commit
    REQUIRE(w->commit(spooltest::sample_envelope(2)));
    CHECK_FALSE(w->commit(spooltest::sample_envelope(2)));

    auto m = sp->load(id);
    REQUIRE(m);
    CHECK(m->envelope.id == id);
    CHECK(m->envelope.size == 20);
    CHECK(m->state.rcpt_state.size() == 2);
    std::string body;
    REQUIRE(sp->read_body(id, body));
    CHECK(body == "Subject: x\r\n\r\nbody\r\n");

    DeliveryState st;
    st.rcpt_state = {RcptState::delivered, RcptState::pending};
    st.attempts = 2;
    REQUIRE(sp->update(id, st));
    st.rcpt_state.pop_back();
    CHECK_FALSE(sp->update(id, st));
    m = sp->load(id);
    CHECK(m->state.attempts == 2);
    CHECK(m->state.rcpt_reply.size() == 2);
    CHECK(m->envelope.recipients[0].state == RcptState::delivered);

    REQUIRE(sp->hold(id));
    CHECK_FALSE(sp->hold(id));
    CHECK(sp->list(true) == std::vector<std::string>{id});
    CHECK(sp->list(false).empty());
    CHECK(sp->load(id)->held);
    REQUIRE(sp->release(id));
    CHECK_FALSE(sp->release(id));
    REQUIRE(sp->remove(id));
    CHECK_FALSE(sp->remove(id));
    CHECK_FALSE(sp->load(id));
}

TEST_CASE("memory spool: commit to hold", "[memory][hold]") {
    auto sp = make_memory_spool();
    auto w = sp->begin();
    REQUIRE(w->write("Subject: x\r\n\r\nbody\r\n"));
    REQUIRE(w->commit(spooltest::sample_envelope(1), Destination::hold));
    CHECK(sp->list(false).empty());
    CHECK(sp->list(true) == std::vector<std::string>{w->id()});
    CHECK(sp->load(w->id())->held);
    REQUIRE(sp->release(w->id()));
    CHECK(sp->list(false) == std::vector<std::string>{w->id()});
}

TEST_CASE("memory spool: abort, bad envelopes, ids and quarantine", "[memory]") {
    auto sp = make_memory_spool();
    {
        auto w = sp->begin();
        REQUIRE(w->write("x"));
    }
    auto w = sp->begin();
    w->abort();
    CHECK_FALSE(w->commit(spooltest::sample_envelope()));
    CHECK(sp->list(false).empty());

    auto bad = sp->begin();
    Envelope e = spooltest::sample_envelope();
    e.recipients[0].address = "x\r\nDATA";
    CHECK_FALSE(bad->commit(e));
    CHECK(sp->list(false).empty());

    std::string id = spooltest::commit_one(*sp, "x");
    CHECK_FALSE(sp->load("../" + id));
    CHECK(sp->quarantine("../" + id, "no").empty());
    CHECK(sp->quarantine(id, "test") == "memory:corrupt/" + id);
    CHECK_FALSE(sp->load(id));
}
