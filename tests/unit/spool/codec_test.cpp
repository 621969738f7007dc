// tests/unit/spool/codec_test.cpp — envelope and state records: round
// trips, canonical form, and rejection of every damaged input.
#include <catch2/catch.hpp>

#include "relay/spool/spool.hpp"
#include "spool_test_util.hpp"

using namespace mxgate::spool;

namespace {

bool same(const Envelope& a, const Envelope& b) {
    if (a.recipients.size() != b.recipients.size()) return false;
    for (size_t i = 0; i < a.recipients.size(); ++i) {
        const auto &x = a.recipients[i], &y = b.recipients[i];
        if (x.address != y.address || x.orcpt != y.orcpt || x.state != y.state || x.last_reply != y.last_reply ||
            x.notify != y.notify)
            return false;
    }
    return a.id == b.id && a.sender == b.sender && a.arrival == b.arrival && a.client_ip == b.client_ip &&
           a.helo == b.helo && a.auth_user == b.auth_user && a.listener == b.listener &&
           a.smtputf8 == b.smtputf8 && a.body_8bit == b.body_8bit && a.ret == b.ret && a.envid == b.envid &&
           a.prepend == b.prepend && a.size == b.size && a.requiretls == b.requiretls &&
           a.tls_optional == b.tls_optional;
}

Envelope full_envelope() {
    Envelope e = spooltest::sample_envelope(3);
    e.id = new_queue_id();
    e.sender = "";  // null sender
    e.arrival = -5;
    e.body_8bit = true;
    e.size = 123456789012ull;
    e.recipients[1].state = RcptState::delivered;
    e.recipients[2].state = RcptState::failed;
    e.recipients[2].last_reply = "550-5.1.1 no such user\r\n550 5.1.1 really";
    e.recipients[0].notify = notify::never;
    e.recipients[1].notify = notify::success | notify::failure | notify::delay;
    e.prepend = std::string("X-Binary: \0\xff\r\n", 15);
    return e;
}

DeliveryState sample_state() {
    DeliveryState st;
    st.rcpt_state = {RcptState::pending, RcptState::delivered, RcptState::failed};
    st.rcpt_reply = {"", "250 2.0.0 ok", "550 5.1.1 unknown\r\nuser"};
    st.attempts = 7;
    st.next_attempt = 1700003600;
    st.delay_warned = true;
    st.last_error = "connect: timed out";
    return st;
}

}  // namespace

TEST_CASE("envelope round trip is exact and canonical", "[codec]") {
    Envelope e = full_envelope();
    std::string enc = encode_envelope(e);
    auto d = decode_envelope(enc);
    REQUIRE(d);
    CHECK(same(*d, e));
    CHECK(encode_envelope(*d) == enc);

    Envelope empty;
    auto d2 = decode_envelope(encode_envelope(empty));
    REQUIRE(d2);
    CHECK(same(*d2, empty));
}

TEST_CASE("state round trip is exact; replies padded to the state count", "[codec]") {
    DeliveryState st = sample_state();
    std::string enc = encode_state(st);
    auto d = decode_state(enc);
    REQUIRE(d);
    CHECK(d->rcpt_state == st.rcpt_state);
    CHECK(d->rcpt_reply == st.rcpt_reply);
    CHECK(d->attempts == 7);
    CHECK(d->next_attempt == 1700003600);
    CHECK(d->delay_warned);
    CHECK(d->last_error == st.last_error);
    CHECK(encode_state(*d) == enc);

    st.rcpt_reply.pop_back();
    auto padded = decode_state(encode_state(st));
    REQUIRE(padded);
    CHECK(padded->rcpt_reply.size() == 3);
    CHECK(padded->rcpt_reply[2].empty());
}

TEST_CASE("every truncation of a record is rejected", "[codec]") {
    std::string env = encode_envelope(full_envelope());
    for (size_t n = 0; n < env.size(); ++n) {
        INFO("envelope prefix length " << n);
        REQUIRE_FALSE(decode_envelope(std::string_view(env).substr(0, n)));
    }
    std::string st = encode_state(sample_state());
    for (size_t n = 0; n < st.size(); ++n) {
        INFO("state prefix length " << n);
        REQUIRE_FALSE(decode_state(std::string_view(st).substr(0, n)));
    }
}

TEST_CASE("trailing bytes after the end field are rejected", "[codec]") {
    std::string env = encode_envelope(full_envelope());
    CHECK_FALSE(decode_envelope(env + "x"));
    CHECK_FALSE(decode_envelope(env + env));
    std::string st = encode_state(sample_state());
    CHECK_FALSE(decode_state(st + std::string(1, '\0')));
}

TEST_CASE("unknown version, wrong magic, and swapped records are rejected", "[codec]") {
    std::string env = encode_envelope(full_envelope());
    std::string v4 = env;
    v4[4] = 4;  // newer than this build
    CHECK_FALSE(decode_envelope(v4));
    std::string v0 = env;
    v0[4] = 0;
    CHECK_FALSE(decode_envelope(v0));
    std::string magic = env;
    magic[0] = 'X';
    CHECK_FALSE(decode_envelope(magic));
    CHECK_FALSE(decode_state(env));
    CHECK_FALSE(decode_envelope(encode_state(sample_state())));
}

TEST_CASE("overlong field lengths are rejected without reading past the end", "[codec]") {
    std::string env = encode_envelope(Envelope{});
    // First field ('i', empty id) starts at offset 5; its length is 6..9.
    REQUIRE(env[5] == 'i');
    for (uint32_t len : {1u, 0x7fffffffu, 0xffffffffu}) {
        std::string bad = env;
        bad[6] = static_cast<char>(len >> 24);
        bad[7] = static_cast<char>(len >> 16);
        bad[8] = static_cast<char>(len >> 8);
        bad[9] = static_cast<char>(len);
        CHECK_FALSE(decode_envelope(bad));
    }
}

TEST_CASE("recipient counts that do not match the records are rejected", "[codec]") {
    Envelope e = full_envelope();
    std::string enc = encode_envelope(e);
    size_t n = enc.find(std::string("n\0\0\0\4\0\0\0\3", 9));
    REQUIRE(n != std::string::npos);
    for (char c : {'\2', '\4', '\xff'}) {
        std::string bad = enc;
        bad[n + 8] = c;
        CHECK_FALSE(decode_envelope(bad));
    }
    std::string huge = enc;
    huge[n + 5] = '\x7f';  // 2^30-ish recipients claimed
    CHECK_FALSE(decode_envelope(huge));

    std::string st = encode_state(sample_state());
    REQUIRE(st.substr(5, 5) == std::string("n\0\0\0\4", 5));
    std::string bad = st;
    bad[13] = '\4';
    CHECK_FALSE(decode_state(bad));
}

TEST_CASE("CR, LF or NUL in single-line envelope fields are rejected", "[codec][security]") {
    for (std::string evil : {std::string("a@b\r\nRCPT TO:<x@y>"), std::string("a\nb"), std::string("a\0b", 3)}) {
        Envelope e = spooltest::sample_envelope();
        e.sender = evil;
        CHECK_FALSE(decode_envelope(encode_envelope(e)));
        e = spooltest::sample_envelope();
        e.recipients[1].address = evil;
        CHECK_FALSE(decode_envelope(encode_envelope(e)));
        e = spooltest::sample_envelope();
        e.helo = evil;
        CHECK_FALSE(decode_envelope(encode_envelope(e)));
    }
    // Multi-line fields keep their line ends.
    Envelope e = spooltest::sample_envelope();
    e.recipients[0].last_reply = "451-4.4.1 a\r\n451 4.4.1 b";
    CHECK(decode_envelope(encode_envelope(e)));
}

TEST_CASE("out-of-range enum, flag and boolean values are rejected", "[codec]") {
    Envelope e = spooltest::sample_envelope(1);
    std::string enc = encode_envelope(e);
    size_t s = enc.find(std::string("S\0\0\0\1\0", 6));
    REQUIRE(s != std::string::npos);
    std::string bad = enc;
    bad[s + 5] = 3;
    CHECK_FALSE(decode_envelope(bad));

    size_t f = enc.find(std::string("f\0\0\0\1", 5));
    REQUIRE(f != std::string::npos);
    bad = enc;
    bad[f + 5] = 16;  // bits 0-3 are defined (version 3), bit 4 is not
    CHECK_FALSE(decode_envelope(bad));
    bad[f + 5] = 12;  // REQUIRETLS and TLS-Required: No together
    CHECK_FALSE(decode_envelope(bad));

    DeliveryState st = sample_state();
    st.attempts = -1;
    CHECK_FALSE(decode_state(encode_state(st)));
    std::string w = encode_state(sample_state());
    size_t wp = w.find(std::string("w\0\0\0\1\1", 6));
    REQUIRE(wp != std::string::npos);
    w[wp + 5] = 2;
    CHECK_FALSE(decode_state(w));
}

TEST_CASE("flipping any single byte never yields a different accepted record", "[codec]") {
    // Each field has one encoding, so a one-byte change either is rejected
    // or changes a value (never silently re-parses the rest).
    std::string enc = encode_envelope(full_envelope());
    for (size_t i = 0; i < enc.size(); ++i) {
        std::string bad = enc;
        bad[i] = static_cast<char>(bad[i] ^ 0x41);
        auto d = decode_envelope(bad);
        if (d) REQUIRE(encode_envelope(*d) == bad);
    }
}

// Version 1 files (written before NOTIFY was stored) are still read: the
// same fields without the per-recipient N field.
TEST_CASE("version 1 envelopes (no NOTIFY) still decode", "[codec]") {
    Envelope e = full_envelope();
    for (auto& r : e.recipients) r.notify = 0;
    std::string v2 = encode_envelope(e);
    // Rebuild as version 1: drop each 'N' field (tag + 4-byte length + 1 byte).
    std::string v1 = v2;
    v1[4] = 1;
    const std::string n_field("N\0\0\0\x01\0", 6);
    size_t removed = 0;
    for (size_t p = 0; (p = v1.find(n_field, p)) != std::string::npos;) {
        v1.erase(p, n_field.size());
        ++removed;
    }
    REQUIRE(removed == e.recipients.size());
    auto d = decode_envelope(v1);
    REQUIRE(d);
    CHECK(same(*d, e));
    // A version 1 file re-encodes as the current version.
    CHECK(encode_envelope(*d) == v2);
}

// Version 3 added the RFC 8689 flag bits (REQUIRETLS, TLS-Required: No) to
// the 'f' field; version 2 files (same fields) still decode, and a version
// 1 or 2 record with those bits set is corrupt.
TEST_CASE("version 2 envelopes decode; REQUIRETLS flags round-trip in version 3", "[codec][requiretls]") {
    Envelope e = full_envelope();
    std::string v3 = encode_envelope(e);
    REQUIRE(v3[4] == 3);
    std::string v2 = v3;
    v2[4] = 2;
    auto d = decode_envelope(v2);
    REQUIRE(d);
    CHECK(same(*d, e));
    CHECK_FALSE(d->requiretls);
    CHECK_FALSE(d->tls_optional);
    CHECK(encode_envelope(*d) == v3);  // re-encodes as version 3

    for (int which = 0; which < 2; ++which) {
        Envelope f = full_envelope();
        f.requiretls = which == 0;
        f.tls_optional = which == 1;
        const std::string enc = encode_envelope(f);
        auto back = decode_envelope(enc);
        REQUIRE(back);
        CHECK(same(*back, f));
        CHECK(back->requiretls == (which == 0));
        CHECK(back->tls_optional == (which == 1));
        CHECK(encode_envelope(*back) == enc);
        // The same bytes labelled version 2 are refused: v2 had no such bit.
        std::string old = enc;
        old[4] = 2;
        CHECK_FALSE(decode_envelope(old));
    }
    // Both at once is impossible (RFC 8689 §4.1: the header is ignored
    // under REQUIRETLS, so mxgate never stores it).
    Envelope both = full_envelope();
    both.requiretls = true;
    both.tls_optional = true;
    CHECK_FALSE(decode_envelope(encode_envelope(both)));
}

TEST_CASE("NOTIFY values outside RFC 3461 are rejected", "[codec]") {
    Envelope e = spooltest::sample_envelope(1);
    e.recipients[0].notify = notify::never | notify::failure;  // NEVER with another keyword
    CHECK_FALSE(decode_envelope(encode_envelope(e)));
    e.recipients[0].notify = 0x10;
    CHECK_FALSE(decode_envelope(encode_envelope(e)));
    e.recipients[0].notify = notify::delay;
    CHECK(decode_envelope(encode_envelope(e)));
}

TEST_CASE("notify_wants: default is failure and delay", "[codec]") {
    Recipient r;
    CHECK(notify_wants(r, notify::failure));
    CHECK(notify_wants(r, notify::delay));
    CHECK_FALSE(notify_wants(r, notify::success));
    r.notify = notify::never;
    CHECK_FALSE(notify_wants(r, notify::failure));
    CHECK_FALSE(notify_wants(r, notify::delay));
    r.notify = notify::success;
    CHECK_FALSE(notify_wants(r, notify::failure));
    CHECK(notify_wants(r, notify::success));
}
