/* Echo: every frame a peer sends comes back to it, unchanged, on the same channel. */
#include <plugbroker.h>

void pb_on_message(pb_channel ch, const uint8_t *payload, size_t len) {
    /* A full outbound queue drops the echo: the broker closes peers that do not read. */
    pb_channel_send(ch, payload, len);
}
