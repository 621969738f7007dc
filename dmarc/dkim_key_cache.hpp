// dmarc/dkim_key_cache.hpp — parsed DKIM public keys, kept by their bytes.
//
// Why: with OpenSSL 3.0 (Debian 12) every d2i_PUBKEY builds a fresh
// OSSL_DECODER context (provider and key-manager walks, string compares,
// allocations): measured at ~60 % of libopendkim's verification CPU for a
// 2048-bit key, against ~4 % for the RSA verification itself
// (docs/performance-checks.md). libopendkim parses the key record's p= tag
// with d2i_PUBKEY_bio() for every signature and offers no hook, so mxgate
// defines d2i_PUBKEY_bio itself (the executable's definition interposes on
// libcrypto's for the shared libraries): a call with a memory BIO and no
// output argument — libopendkim's only form — is answered from a cache
// keyed by the exact bytes, with a new reference to the same immutable
// EVP_PKEY; every other call goes to libcrypto's function (dlsym
// RTLD_NEXT). The DNS lookup of the key record is not cached here: it runs
// for every message and obeys the record's TTL like every other lookup.
// Same bytes, same key: no check is weakened.
//
// Thread-safe (check-pool workers). At most 512 keys; then it starts over.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mxgate::dmarc {

struct DkimKeyCacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    size_t keys = 0;
};

// Also what links this file (and so the interposer) into every binary
// that verifies DKIM: dkim_verify.cpp calls it.
DkimKeyCacheStats dkim_key_cache_stats();

}  // namespace mxgate::dmarc
