// The DKIM public-key parser cache (dmarc/dkim_key_cache.hpp): mxgate's
// d2i_PUBKEY_bio answers libopendkim's calls (memory BIO, no output
// argument) from a cache keyed by the exact bytes; every other form goes to
// libcrypto. Checked here through the interposed symbol itself, the way
// libopendkim reaches it.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>
#include <string>

#include "dmarc/dkim_key_cache.hpp"

using namespace mxgate::dmarc;

namespace {

std::string spki_der(EVP_PKEY* pk) {
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(pk, &der);
    REQUIRE(n > 0);
    std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
    return out;
}

EVP_PKEY* parse(const std::string& bytes, size_t* left = nullptr) {
    BIO* b = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
    EVP_PKEY* k = d2i_PUBKEY_bio(b, nullptr);
    if (left) *left = BIO_ctrl_pending(b);
    BIO_free(b);
    return k;
}

}  // namespace

TEST_CASE("dkim key cache: the same bytes give the same key, parsed once", "[dkim][keycache]") {
    EVP_PKEY* a = EVP_RSA_gen(1024);
    EVP_PKEY* b = EVP_RSA_gen(1024);
    const std::string der_a = spki_der(a), der_b = spki_der(b);

    const DkimKeyCacheStats s0 = dkim_key_cache_stats();
    size_t left = 99;
    EVP_PKEY* k1 = parse(der_a, &left);
    REQUIRE(k1);
    CHECK(left == 0);  // the BIO is consumed like libcrypto's parser leaves it
    CHECK(EVP_PKEY_eq(k1, a) == 1);
    EVP_PKEY* k2 = parse(der_a, &left);
    REQUIRE(k2);
    CHECK(left == 0);
    CHECK(k2 == k1);  // served from the cache: a new reference to the same key
    const DkimKeyCacheStats s1 = dkim_key_cache_stats();
    CHECK(s1.misses == s0.misses + 1);
    CHECK(s1.hits == s0.hits + 1);

    // Another key is another entry, never the first one.
    EVP_PKEY* k3 = parse(der_b);
    REQUIRE(k3);
    CHECK(k3 != k1);
    CHECK(EVP_PKEY_eq(k3, b) == 1);
    CHECK(EVP_PKEY_eq(k3, a) != 1);

    // Each caller owns its reference: freeing one leaves the others usable.
    EVP_PKEY_free(k1);
    CHECK(EVP_PKEY_get_bits(k2) == 1024);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k3);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}

TEST_CASE("dkim key cache: trailing bytes stay in the BIO, garbage is refused", "[dkim][keycache]") {
    EVP_PKEY* a = EVP_RSA_gen(1024);
    const std::string der = spki_der(a);
    size_t left = 0;
    for (int round = 0; round < 2; ++round) {  // parsed, then from the cache
        EVP_PKEY* k = parse(der + "xyz", &left);
        REQUIRE(k);
        CHECK(left == 3);
        CHECK(EVP_PKEY_eq(k, a) == 1);
        EVP_PKEY_free(k);
    }
    CHECK(parse("not a key at all") == nullptr);
    CHECK(parse(der.substr(0, der.size() / 2)) == nullptr);  // truncated
    // One changed byte of the modulus is another key (or none), never the cached one.
    std::string flipped = der;
    flipped[flipped.size() - 10] ^= 0x01;
    EVP_PKEY* k = parse(flipped);
    if (k) CHECK(EVP_PKEY_eq(k, a) != 1);
    EVP_PKEY_free(k);
    EVP_PKEY_free(a);
}

TEST_CASE("dkim key cache: other BIO types and an output argument go to libcrypto", "[dkim][keycache]") {
    EVP_PKEY* a = EVP_RSA_gen(1024);
    const std::string der = spki_der(a);
    const DkimKeyCacheStats s0 = dkim_key_cache_stats();
    // A buffering filter over the memory BIO: not a memory BIO itself.
    BIO* mem = BIO_new_mem_buf(der.data(), static_cast<int>(der.size()));
    BIO* buf = BIO_push(BIO_new(BIO_f_buffer()), mem);
    EVP_PKEY* k = d2i_PUBKEY_bio(buf, nullptr);
    REQUIRE(k);
    CHECK(EVP_PKEY_eq(k, a) == 1);
    BIO_free_all(buf);
    EVP_PKEY_free(k);
    // With an output argument.
    BIO* m2 = BIO_new_mem_buf(der.data(), static_cast<int>(der.size()));
    EVP_PKEY* out = nullptr;
    EVP_PKEY* k2 = d2i_PUBKEY_bio(m2, &out);
    REQUIRE(k2);
    CHECK(k2 == out);
    CHECK(EVP_PKEY_eq(k2, a) == 1);
    BIO_free(m2);
    EVP_PKEY_free(k2);
    const DkimKeyCacheStats s1 = dkim_key_cache_stats();
    CHECK(s1.hits == s0.hits);
    CHECK(s1.misses == s0.misses);
    EVP_PKEY_free(a);
}
