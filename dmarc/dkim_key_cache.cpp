// dmarc/dkim_key_cache.cpp — see dkim_key_cache.hpp.
#include "dmarc/dkim_key_cache.hpp"

#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mxgate::dmarc {

namespace {

constexpr size_t kMaxKeys = 512;  // distinct keys kept; then the cache starts over
constexpr long kMaxKeyBytes = 16 * 1024;  // far above RSA-8192's SubjectPublicKeyInfo

struct Entry {
    EVP_PKEY* key;    // the cache's own reference
    long consumed;    // bytes the DER object took (the rest was trailing data)
};

struct Cache {
    std::mutex mu;
    std::unordered_map<std::string, Entry> keys;  // the BIO's bytes -> parsed key
};

Cache& cache() {
    static Cache* c = new Cache;  // never destroyed: pool threads may outlive static destructors
    return *c;
}

std::atomic<uint64_t> g_hits{0}, g_misses{0};

using D2iBio = EVP_PKEY* (*)(BIO*, EVP_PKEY**);

// libcrypto's own d2i_PUBKEY_bio, for every call we do not handle.
D2iBio real_d2i_pubkey_bio() {
    static D2iBio real = reinterpret_cast<D2iBio>(dlsym(RTLD_NEXT, "d2i_PUBKEY_bio"));
    return real;
}

// Reads `n` bytes off the BIO, as libcrypto's parser leaves it.
void consume(BIO* bp, long n) {
    char scratch[512];
    while (n > 0) {
        const int got = BIO_read(bp, scratch, static_cast<int>(std::min<long>(n, sizeof scratch)));
        if (got <= 0) return;
        n -= got;
    }
}

// nullptr: not handled here (the caller asks libcrypto).
EVP_PKEY* cached_or_parse(BIO* bp) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bp, &data);
    if (len <= 0 || len > kMaxKeyBytes || !data) return nullptr;
    std::string der(data, static_cast<size_t>(len));
    Cache& c = cache();
    {
        std::lock_guard<std::mutex> lock(c.mu);
        if (auto it = c.keys.find(der); it != c.keys.end() && EVP_PKEY_up_ref(it->second.key) == 1) {
            g_hits.fetch_add(1, std::memory_order_relaxed);
            consume(bp, it->second.consumed);
            return it->second.key;
        }
    }
    g_misses.fetch_add(1, std::memory_order_relaxed);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data);
    EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, len);
    if (!key) return nullptr;
    const long consumed = static_cast<long>(p - reinterpret_cast<const unsigned char*>(data));
    consume(bp, consumed);
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.keys.size() >= kMaxKeys) {
        for (auto& kv : c.keys) EVP_PKEY_free(kv.second.key);
        c.keys.clear();
    }
    if (c.keys.find(der) == c.keys.end() && EVP_PKEY_up_ref(key) == 1)
        c.keys.emplace(std::move(der), Entry{key, consumed});
    return key;
}

}  // namespace

DkimKeyCacheStats dkim_key_cache_stats() {
    DkimKeyCacheStats s;
    s.hits = g_hits.load();
    s.misses = g_misses.load();
    std::lock_guard<std::mutex> lock(cache().mu);
    s.keys = cache().keys.size();
    return s;
}

}  // namespace mxgate::dmarc

// The interposer (see the header): libopendkim's only key parser call is
// d2i_PUBKEY_bio(mem BIO over the decoded p= tag, NULL). That shape is
// served from the cache; anything else goes to libcrypto unchanged.
extern "C" EVP_PKEY* d2i_PUBKEY_bio(BIO* bp, EVP_PKEY** a) {
    if (a == nullptr && bp != nullptr && BIO_method_type(bp) == BIO_TYPE_MEM) {
        if (EVP_PKEY* k = mxgate::dmarc::cached_or_parse(bp)) return k;
        // Not parseable here: let libcrypto decide (and set its errors).
    }
    auto real = mxgate::dmarc::real_d2i_pubkey_bio();
    return real ? real(bp, a) : nullptr;
}
