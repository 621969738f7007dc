// DKIM verification (dmarc/dkim_verify.hpp): messages signed for real with
// libopendkim's signer and a fresh RSA key, keys served by a static zone
// through the blocking DNS bridge.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define _Bool bool
extern "C" {
#include <opendkim/dkim.h>
}
#undef _Bool

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "dmarc/dkim_verify.hpp"
#include "dns_fixture.hpp"

using namespace mxgate;
using namespace mxgate::dmarc;
using mxgate::testing::DnsFixture;

namespace {

struct Key {
    std::string pem;     // private key
    std::string p_tag;   // base64 SubjectPublicKeyInfo
};

Key make_key() {
    static const Key key = [] {
        Key k;
        EVP_PKEY* pk = EVP_RSA_gen(2048);
        BIO* b = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(b, pk, nullptr, nullptr, 0, nullptr, nullptr);
        char* p = nullptr;
        long n = BIO_get_mem_data(b, &p);
        k.pem.assign(p, static_cast<size_t>(n));
        BIO_free(b);
        unsigned char* der = nullptr;
        const int dn = i2d_PUBKEY(pk, &der);
        std::string b64(4 * ((dn + 2) / 3) + 1, '\0');
        const int bn = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), der, dn);
        b64.resize(static_cast<size_t>(bn));
        k.p_tag = b64;
        OPENSSL_free(der);
        EVP_PKEY_free(pk);
        return k;
    }();
    return key;
}

std::string crlf(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
        out += s[i];
    }
    return out;
}

// Signs `message` (CRLF) for domain/selector; body_length < 0 signs all of
// the body without l=, else only that many octets with l=.
std::string sign(const std::string& message, const std::string& domain, const std::string& selector,
                 ssize_t body_length = -1) {
    DKIM_LIB* lib = dkim_init(nullptr, nullptr);
    REQUIRE(lib);
    DKIM_STAT st;
    const std::string pem = make_key().pem;
    DKIM* d = dkim_sign(lib, reinterpret_cast<const unsigned char*>("test"), nullptr,
                        reinterpret_cast<dkim_sigkey_t>(const_cast<char*>(pem.c_str())),
                        reinterpret_cast<const unsigned char*>(selector.c_str()),
                        reinterpret_cast<const unsigned char*>(domain.c_str()), DKIM_CANON_RELAXED,
                        DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, body_length, &st);
    REQUIRE(d);
    std::string copy = message;
    REQUIRE(dkim_chunk(d, reinterpret_cast<u_char*>(copy.data()), copy.size()) == DKIM_STAT_OK);
    REQUIRE(dkim_chunk(d, nullptr, 0) == DKIM_STAT_OK);
    REQUIRE(dkim_eom(d, nullptr) == DKIM_STAT_OK);
    u_char buf[4096];
    REQUIRE(dkim_getsighdr(d, buf, sizeof buf, 16) == DKIM_STAT_OK);
    const std::string header = "DKIM-Signature: " + crlf(reinterpret_cast<char*>(buf)) + "\r\n";
    dkim_free(d);
    dkim_close(lib);
    return header + message;
}

const std::string kMessage =
    "From: Alice <alice@signer.test>\r\n"
    "To: bob@example.org\r\n"
    "Subject: hello\r\n"
    "Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n"
    "Message-ID: <1@signer.test>\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "this is a signed message.\r\n";

}  // namespace

TEST_CASE("dkim: a good signature passes, a changed body fails", "[dkim]") {
    DnsFixture f;
    f.txt("sel._domainkey.signer.test", "v=DKIM1; k=rsa; p=" + make_key().p_tag);
    const std::string signed_msg = sign(kMessage, "signer.test", "sel");
    DkimVerdicts v = verify_dkim(f.dns, signed_msg);
    REQUIRE(v.size() == 1);
    CHECK(v[0].result == DkimResult::pass);
    CHECK(v[0].domain == "signer.test");
    CHECK(v[0].selector == "sel");
    CHECK(v[0].covers_body);

    std::string tampered = signed_msg;
    tampered.replace(tampered.find("Hello Bob"), 9, "Hello Eve");
    v = verify_dkim(f.dns, tampered);
    REQUIRE(v.size() == 1);
    CHECK(v[0].result == DkimResult::fail);

    std::string header_changed = signed_msg;
    header_changed.replace(header_changed.find("Subject: hello"), 14, "Subject: HELLO");
    v = verify_dkim(f.dns, header_changed);
    REQUIRE(v.size() == 1);
    CHECK(v[0].result == DkimResult::fail);
}

TEST_CASE("dkim: unsigned message, missing key, DNS failure", "[dkim]") {
    DnsFixture f;
    CHECK(verify_dkim(f.dns, kMessage).empty());
    const std::string nokey = sign(kMessage, "nokey.test", "sel");
    DkimVerdicts v = verify_dkim(f.dns, nokey);
    REQUIRE(v.size() == 1);
    CHECK(v[0].result == DkimResult::permerror);
    f.servfail("sel._domainkey.broken.test", core::rrtype::TXT);
    v = verify_dkim(f.dns, sign(kMessage, "broken.test", "sel"));
    REQUIRE(v.size() == 1);
    CHECK(v[0].result == DkimResult::temperror);
}

TEST_CASE("dkim: l= shorter than the body does not cover it", "[dkim]") {
    DnsFixture f;
    f.txt("sel._domainkey.signer.test", "v=DKIM1; k=rsa; p=" + make_key().p_tag);
    // Signs only "Hello Bob,\r\n"; an appended body part stays unsigned.
    const std::string partial = sign(kMessage, "signer.test", "sel", 12);
    DkimVerdicts v = verify_dkim(f.dns, partial);
    REQUIRE(v.size() == 1);
    CHECK(v[0].result == DkimResult::policy);
    CHECK_FALSE(v[0].covers_body);
    // l= equal to the whole body covers it.
    const std::string whole = sign(kMessage, "signer.test", "sel", 39);
    v = verify_dkim(f.dns, whole);
    REQUIRE(v.size() == 1);
    CHECK(v[0].result == DkimResult::pass);
    CHECK(v[0].covers_body);
}

TEST_CASE("dkim: every signature is evaluated", "[dkim]") {
    DnsFixture f;
    f.txt("sel._domainkey.signer.test", "v=DKIM1; k=rsa; p=" + make_key().p_tag);
    f.txt("s2._domainkey.other.test", "v=DKIM1; k=rsa; p=" + make_key().p_tag);
    const std::string twice = sign(sign(kMessage, "signer.test", "sel"), "other.test", "s2");
    DkimVerdicts v = verify_dkim(f.dns, twice);
    REQUIRE(v.size() == 2);
    CHECK(v[0].result == DkimResult::pass);
    CHECK(v[1].result == DkimResult::pass);
    CHECK(v[0].domain != v[1].domain);
}

TEST_CASE("dkim: a header present twice is matched bottom-up (RFC 6376 §5.4.2)", "[dkim]") {
    DnsFixture f;
    f.txt("sel._domainkey.signer.test", "v=DKIM1; k=rsa; p=" + make_key().p_tag);
    const std::string signed_msg = sign(kMessage, "signer.test", "sel");
    // A second Subject added *above* the signed one: the verifier takes the
    // last instance, which is the signed one — still a pass.
    std::string above = signed_msg;
    above.insert(above.find("From: Alice"), "Subject: injected\r\n");
    DkimVerdicts v = verify_dkim(f.dns, above);
    REQUIRE(v.size() == 1);
    CHECK(v[0].result == DkimResult::pass);
    // Added *below* (the last instance is now the unsigned one): fail.
    std::string below = signed_msg;
    below.insert(below.find("\r\n\r\n") + 2, "Subject: injected\r\n");
    v = verify_dkim(f.dns, below);
    REQUIRE(v.size() == 1);
    CHECK(v[0].result == DkimResult::fail);
}

// RFC 6376 §6.1: each signature gets its own result. A key lookup that fails
// temporarily must neither hide another signature's pass nor its fail, in
// either order (libopendkim abandons the remaining signatures on TRYAGAIN).
TEST_CASE("dkim: one signature's key SERVFAIL does not hide the others", "[dkim]") {
    DnsFixture f;
    f.txt("sel._domainkey.signer.test", "v=DKIM1; k=rsa; p=" + make_key().p_tag);
    f.servfail("sel._domainkey.broken.test", core::rrtype::TXT);
    const std::string good = "signer.test";
    const std::string bad = "broken.test";

    auto find = [](const DkimVerdicts& v, const std::string& d) {
        for (const DkimVerdict& x : v)
            if (x.domain == d) return x;
        FAIL("no verdict for " << d);
        return DkimVerdict{};
    };

    SECTION("temperror signature on top (evaluated first)") {
        const std::string msg = sign(sign(kMessage, good, "sel"), bad, "sel");
        DkimVerdicts v = verify_dkim(f.dns, msg);
        REQUIRE(v.size() == 2);
        CHECK(v[0].domain == bad);
        CHECK(v[1].domain == good);
        CHECK(find(v, bad).result == DkimResult::temperror);
        CHECK(find(v, good).result == DkimResult::pass);
    }
    SECTION("temperror signature below") {
        const std::string msg = sign(sign(kMessage, bad, "sel"), good, "sel");
        DkimVerdicts v = verify_dkim(f.dns, msg);
        REQUIRE(v.size() == 2);
        CHECK(v[0].domain == good);
        CHECK(v[1].domain == bad);
        CHECK(find(v, bad).result == DkimResult::temperror);
        CHECK(find(v, good).result == DkimResult::pass);
    }
    SECTION("a failing signature is still reported as fail beside a temperror") {
        std::string msg = sign(sign(kMessage, good, "sel"), bad, "sel");
        msg.replace(msg.find("Hello Bob"), 9, "Hello Eve");
        DkimVerdicts v = verify_dkim(f.dns, msg);
        REQUIRE(v.size() == 2);
        CHECK(find(v, bad).result == DkimResult::temperror);
        CHECK(find(v, good).result == DkimResult::fail);
    }
    SECTION("two temperrors and a pass between them") {
        f.servfail("s2._domainkey.broken2.test", core::rrtype::TXT);
        const std::string msg = sign(sign(sign(kMessage, bad, "sel"), good, "sel"), "broken2.test", "s2");
        DkimVerdicts v = verify_dkim(f.dns, msg);
        REQUIRE(v.size() == 3);
        CHECK(find(v, bad).result == DkimResult::temperror);
        CHECK(find(v, "broken2.test").result == DkimResult::temperror);
        CHECK(find(v, good).result == DkimResult::pass);
    }
}

// A message may carry any number of DKIM-Signature fields; each costs a key
// lookup and hashing. At most kMaxDkimSignatures (the top-most) are
// evaluated, the rest summed up in one policy verdict that never aligns.
TEST_CASE("dkim: at most kMaxDkimSignatures signatures are evaluated", "[dkim]") {
    DnsFixture f;
    f.txt("sel._domainkey.signer.test", "v=DKIM1; k=rsa; p=" + make_key().p_tag);
    f.txt("sel._domainkey.other.test", "v=DKIM1; k=rsa; p=" + make_key().p_tag);
    const std::string signed_msg = sign(kMessage, "signer.test", "sel");
    const size_t eoh = signed_msg.find("From: Alice");
    const std::string sig = signed_msg.substr(0, eoh);
    std::string many;
    for (int i = 0; i < 2000; ++i) many += sig;
    many += signed_msg.substr(eoh);
    const auto t0 = std::chrono::steady_clock::now();
    DkimVerdicts v = verify_dkim(f.dns, many);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    REQUIRE(v.size() == kMaxDkimSignatures + 1);
    for (size_t i = 0; i < kMaxDkimSignatures; ++i) CHECK(v[i].result == DkimResult::pass);
    const DkimVerdict& rest = v.back();
    CHECK(rest.not_evaluated == 2000 - static_cast<int>(kMaxDkimSignatures));
    CHECK(rest.result == DkimResult::policy);
    CHECK_FALSE(rest.covers_body);
    CHECK(rest.domain.empty());
    CHECK(rest.error.find("1990 more signatures not evaluated") != std::string::npos);
    // 2000 verified signatures took ~1.4 s here; 10 take a few ms.
    CHECK(elapsed < std::chrono::milliseconds(500));

    // The limit counts from the top: a pass below ten others is not seen.
    const std::string below = sign(kMessage, "other.test", "sel");
    std::string eleven;
    for (size_t i = 0; i < kMaxDkimSignatures; ++i) eleven += sig;
    eleven += below;
    v = verify_dkim(f.dns, eleven);
    REQUIRE(v.size() == kMaxDkimSignatures + 1);
    CHECK(v.back().not_evaluated == 1);
    for (const DkimVerdict& d : v) CHECK(d.domain != "other.test");
    // Exactly the limit: no summary.
    std::string ten;
    for (size_t i = 0; i < kMaxDkimSignatures; ++i) ten += sig;
    v = verify_dkim(f.dns, ten + signed_msg.substr(eoh));
    REQUIRE(v.size() == kMaxDkimSignatures);
    CHECK(v.back().not_evaluated == 0);
}

TEST_CASE("dkim: a message read in blocks of any size gives the same verdicts", "[dkim][blocks]") {
    DnsFixture f;
    f.txt("sel._domainkey.signer.test", "v=DKIM1; k=rsa; p=" + make_key().p_tag);
    const std::string signed_msg = sign(kMessage, "signer.test", "sel");
    std::string tampered = signed_msg;
    tampered.replace(tampered.find("Hello Bob"), 9, "Hello Eve");
    // Blocks split lines, CRLFs and the header/body boundary anywhere.
    for (size_t size : {size_t{1}, size_t{2}, size_t{7}, size_t{64}, size_t{65536}}) {
        CAPTURE(size);
        for (const std::string* msg : {static_cast<const std::string*>(&signed_msg), static_cast<const std::string*>(&tampered)}) {
            size_t at = 0;
            const MessageBlocks next = [&](std::string& block) {
                block = msg->substr(std::min(at, msg->size()), size);
                at += block.size();
                return true;
            };
            DkimVerdicts v = verify_dkim_blocks(f.dns, next);
            REQUIRE(v.size() == 1);
            CHECK(v[0].result == (msg == &signed_msg ? DkimResult::pass : DkimResult::fail));
        }
    }
    // A read error is never "unsigned" nor a pass.
    int calls = 0;
    const MessageBlocks broken = [&](std::string& block) {
        block = signed_msg.substr(0, 10);
        return ++calls < 2;
    };
    DkimVerdicts v = verify_dkim_blocks(f.dns, broken);
    REQUIRE(v.size() == 1);
    CHECK(v[0].result == DkimResult::temperror);
}
