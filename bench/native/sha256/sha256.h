/* SHA-256 (FIPS 180-4) in portable, freestanding C: the one implementation that the C plugin, the C
 * wasm kernel and the native baseline all compile (bench/native/README.md). */
#ifndef PLUGBROKER_BENCH_SHA256_H
#define PLUGBROKER_BENCH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_BYTES 32

/** Writes the SHA-256 digest of `data[0..len)` to `out` (32 bytes). */
void sha256(const uint8_t *data, size_t len, uint8_t out[SHA256_DIGEST_BYTES]);

#endif
