// tests/unit/dmarc/dkim_sign_test.cpp — DKIM signing with libopendkim,
// checked by libopendkim's *verifier* against the public key published in a
// key file (DKIM_QUERY_FILE: "selector._domainkey.domain TXT-data"), and
// that a changed body or header breaks the signature. The integration test
// (test_outbound_dane.py) verifies with python3-dkim against a DNS zone.
#include <catch2/catch.hpp>

// dkim.h uses C99 _Bool; C++ spells it bool (same ABI).
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "dmarc/dkim_sign.hpp"

namespace dm = mxgate::dmarc;

namespace {

struct Keys {
    std::string dir, key_file, query_file;
};

std::string base64(const unsigned char* p, size_t n) {
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
    out.resize(static_cast<size_t>(len));
    return out;
}

// A fresh RSA-2048 key pair: the private key as PEM, the public key as a
// DKIM key record in a query file for the verifier.
const Keys& keys() {
    static const Keys k = [] {
        Keys out;
        char tmpl[] = "/tmp/mxgate-dkim-XXXXXX";
        out.dir = mkdtemp(tmpl);
        EVP_PKEY* pkey = EVP_RSA_gen(2048);
        REQUIRE(pkey);
        out.key_file = out.dir + "/example.org.key";
        FILE* f = fopen(out.key_file.c_str(), "w");
        PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
        fclose(f);
        unsigned char* der = nullptr;
        const int len = i2d_PUBKEY(pkey, &der);
        const std::string p = base64(der, static_cast<size_t>(len));
        OPENSSL_free(der);
        EVP_PKEY_free(pkey);
        out.query_file = out.dir + "/keys";
        std::ofstream(out.query_file) << "mx1._domainkey.example.org v=DKIM1; k=rsa; p=" << p << "\n";
        return out;
    }();
    return k;
}

mxgate::conf::Domain domain() {
    mxgate::conf::Domain d;
    d.name = "example.org";
    d.dkim = mxgate::conf::DkimSign{"mx1", keys().key_file};
    return d;
}

// libopendkim verification of a complete message (CRLF lines).
DKIM_STAT verify(const std::string& message) {
    DKIM_LIB* lib = dkim_init(nullptr, nullptr);
    REQUIRE(lib);
    dkim_query_t q = DKIM_QUERY_FILE;
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &q, sizeof q);
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, const_cast<char*>(keys().query_file.c_str()),
                 keys().query_file.size());
    DKIM_STAT st = DKIM_STAT_OK;
    DKIM* d = dkim_verify(lib, reinterpret_cast<const unsigned char*>("test"), nullptr, &st);
    REQUIRE(d);
    size_t pos = 0;
    std::string field;
    auto flush = [&] {
        if (!field.empty()) dkim_header(d, reinterpret_cast<unsigned char*>(field.data()), field.size());
        field.clear();
    };
    while (pos < message.size()) {
        size_t eol = message.find("\r\n", pos);
        std::string line = message.substr(pos, eol - pos);
        pos = eol + 2;
        if (line.empty()) break;
        if (line[0] == ' ' || line[0] == '\t') {
            field += "\r\n" + line;
        } else {
            flush();
            field = line;
        }
    }
    flush();
    dkim_eoh(d);
    std::string body = message.substr(pos);
    dkim_body(d, reinterpret_cast<unsigned char*>(body.data()), body.size());
    st = dkim_eom(d, nullptr);
    dkim_free(d);
    dkim_close(lib);
    return st;
}

const std::string kPrepend = "Received: from a (a [192.0.2.1]) by mx.example.org; Sun, 22 Nov 2026 15:00:00 +0000\r\n";
const std::string kBody =
    "From: Alice <alice@Example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: hello\r\n"
    "Date: Sun, 22 Nov 2026 15:00:00 +0000\r\n"
    "Message-ID: <1@example.org>\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "\r\n"
    ".a line that was dot-stuffed on the wire\r\n"
    "bye\r\n";

}  // namespace

TEST_CASE("DKIM signature verifies with libopendkim's verifier", "[dkim]") {
    std::string error;
    const auto d = domain();
    auto sig = dm::sign_message(d, kPrepend, kBody, error);
    INFO(error);
    REQUIRE(sig);
    CHECK(sig->rfind("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mx1;", 0) == 0);
    CHECK(sig->size() > 2);
    CHECK(sig->substr(sig->size() - 2) == "\r\n");
    CHECK(sig->find("\n\t") != std::string::npos);           // folded ...
    CHECK(sig->find_first_of('\n') == sig->find("\r\n") + 1);  // ... with CRLF only
    const std::string signed_msg = *sig + kPrepend + kBody;
    CHECK(verify(signed_msg) == DKIM_STAT_OK);

    SECTION("a changed body breaks it") {
        std::string tampered = signed_msg;
        tampered.replace(tampered.find("Hello Bob"), 9, "Hello Eve");
        CHECK(verify(tampered) != DKIM_STAT_OK);
    }
    SECTION("a changed Subject breaks it") {
        std::string tampered = signed_msg;
        tampered.replace(tampered.find("Subject: hello"), 14, "Subject: HELLO!");
        CHECK(verify(tampered) != DKIM_STAT_OK);
    }
    SECTION("a From: added in transit breaks it (From: is over-signed)") {
        std::string tampered = signed_msg;
        tampered.insert(tampered.find("To: bob"), "From: mallory@evil.example\r\n");
        CHECK(verify(tampered) != DKIM_STAT_OK);
    }
}

TEST_CASE("which messages are signed, by whom", "[dkim]") {
    mxgate::conf::Config cfg;
    cfg.domains.push_back(domain());
    mxgate::conf::Domain nokey;
    nokey.name = "nokey.example";
    cfg.domains.push_back(nokey);

    CHECK(dm::from_header_domain(kBody) == "example.org");
    const auto* d = dm::dkim_signer_for(cfg, kPrepend, kBody);
    REQUIRE(d);
    CHECK(d->name == "example.org");
    CHECK(dm::dkim_signer_for(cfg, "", "From: a@nokey.example\r\n\r\nx\r\n") == nullptr);
    CHECK(dm::dkim_signer_for(cfg, "", "From: a@other.example\r\n\r\nx\r\n") == nullptr);
    // Two From: fields, or none: no author, nothing signed.
    CHECK(dm::dkim_signer_for(cfg, "", "From: a@example.org\r\nFrom: b@example.org\r\n\r\nx\r\n") == nullptr);
    CHECK(dm::dkim_signer_for(cfg, "", "To: a@example.org\r\n\r\nx\r\n") == nullptr);
    // A From: in the body is not a header.
    CHECK(dm::dkim_signer_for(cfg, "", "To: a@x.example\r\n\r\nFrom: a@example.org\r\n") == nullptr);
}

TEST_CASE("signing failures name the key file, never its contents", "[dkim]") {
    auto d = domain();
    d.dkim->key = keys().dir + "/missing.key";
    std::string error;
    CHECK_FALSE(dm::sign_message(d, "", kBody, error));
    CHECK(error.find("missing.key") != std::string::npos);

    const std::string bad = keys().dir + "/bad.key";
    std::ofstream(bad) << "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
    d.dkim->key = bad;
    error.clear();
    CHECK_FALSE(dm::sign_message(d, "", kBody, error));
    CHECK(error.find("bad.key") != std::string::npos);
    CHECK(error.find("not a key") == std::string::npos);
}
