/* Pass-through filter: in front of another plugin in a chain, passes every frame on unchanged,
 * in both directions (towards the application with pb_chain_forward, towards the client with
 * pb_channel_send / pb_group_send_n). */
#include <plugbroker.h>

void pb_on_message(pb_channel ch, const uint8_t *payload, size_t len) {
    pb_chain_forward(ch, payload, len);
}

static void on_send(pb_channel ch, const uint8_t *payload, size_t len) {
    pb_channel_send(ch, payload, len);
}

static void on_group_send(const char *group, size_t group_len, const uint8_t *payload, size_t len, pb_channel except) {
    pb_group_send_n(group, group_len, payload, len, except);
}

PB_FILTER(on_send, on_group_send)
