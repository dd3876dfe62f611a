/* sha256-c: every frame a peer sends is answered with its SHA-256 digest (32 bytes), on the same
 * channel. The digest is the shared C code of bench/native/sha256/, included so that the plugin,
 * the wasm kernel and the native baseline compile the very same source. */
#include <plugbroker.h>

#include "../../sha256/sha256.c"

void pb_on_message(pb_channel ch, const uint8_t *payload, size_t len) {
    uint8_t digest[SHA256_DIGEST_BYTES];
    sha256(payload, len, digest);
    /* A full outbound queue drops the reply: the broker closes peers that do not read. */
    pb_channel_send(ch, digest, sizeof digest);
}
