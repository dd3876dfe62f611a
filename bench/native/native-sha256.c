/* The native baseline: the shared sha256() (sha256/sha256.c) compiled by gcc/clang, hashing one
 * buffer in a loop. Usage: native-sha256 <bytes> <iterations> <rounds>
 * Prints one line per round: CPU ns per digest (CLOCK_PROCESS_CPUTIME_ID: on a loaded machine the
 * time the process was descheduled does not count, as in the wasm runs of bench/native.js), then
 * the last digest in hex. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sha256/sha256.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s <bytes> <iterations> <rounds>\n", argv[0]);
        return 2;
    }
    size_t len = strtoul(argv[1], NULL, 10);
    unsigned long iterations = strtoul(argv[2], NULL, 10);
    unsigned long rounds = strtoul(argv[3], NULL, 10);
    uint8_t *buf = malloc(len == 0 ? 1 : len);
    if (buf == NULL) return 1;
    /* The same input the wasm side hashes: byte i is i * 31 + 7 (mod 256). */
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(i * 31 + 7);
    uint8_t out[SHA256_DIGEST_BYTES];
    for (unsigned long r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (unsigned long i = 0; i < iterations; i++) {
            sha256(buf, len, out);
            /* Keep the compiler from hoisting the call out of the loop. */
            __asm__ volatile("" : : "r"(out) : "memory");
        }
        printf("%.3f\n", (now_ns() - t0) / (double)iterations);
    }
    for (int i = 0; i < SHA256_DIGEST_BYTES; i++) printf("%02x", out[i]);
    printf("\n");
    free(buf);
    return 0;
}
