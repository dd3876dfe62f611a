/* The C wasm kernel: the shared sha256() exported bare, for the host to call in a loop (no SDK,
 * no canonical ABI). `digest_input` is a static buffer the host fills once. */
#include "../sha256/sha256.c"

#define KERNEL_INPUT_BYTES (1 << 20)
static uint8_t input[KERNEL_INPUT_BYTES];
static uint8_t output[SHA256_DIGEST_BYTES];

__attribute__((export_name("input_ptr"))) uint8_t *input_ptr(void) { return input; }
__attribute__((export_name("output_ptr"))) uint8_t *output_ptr(void) { return output; }

/** Hashes input[0..len) `iterations` times (the loop lives in wasm too, so no crossing per call
 * is measured when iterations > 1). */
__attribute__((export_name("digest"))) void digest(uint32_t len, uint32_t iterations) {
    for (uint32_t i = 0; i < iterations; i++) sha256(input, len, output);
}
