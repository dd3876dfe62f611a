/*
 * json-msgpack: a codec filter. Clients speak JSON text; the plugin behind this one in the chain
 * sees MessagePack, and what it sends back (channel-send, group-send) reaches the clients as JSON.
 *
 * Inbound:  client frame (JSON) → json_to_msgpack → pb_chain_forward.
 * Outbound: handle-send / handle-group-send (msgpack) → msgpack_to_json → pb_channel_send /
 *           pb_group_send_n (a group frame is converted once, for every member).
 * A frame that does not convert (invalid JSON in, invalid or JSON-less msgpack out, nesting deeper
 * than CODEC_MAX_DEPTH) is dropped and logged at warn with its channel and the byte offset; the
 * channel stays open and the next frame is handled as usual.
 */
#include "codec.h"

static void log_drop(const char *what, pb_channel ch, codec_result r) {
    buf line = {0};
    buf_append(&line, what, pb_strlen(what));
    buf_append(&line, " on channel ", 12);
    char num[24];
    int n = 0;
    uint64_t v = ch;
    do { num[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) buf_push(&line, (uint8_t)num[--n]);
    buf_append(&line, ": ", 2);
    const char *name = codec_error_name(r.error);
    buf_append(&line, name, pb_strlen(name));
    buf_append(&line, " at byte ", 9);
    v = r.at;
    do { num[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) buf_push(&line, (uint8_t)num[--n]);
    if (!line.oom) pb_log_n(PB_LOG_WARN, (const char *)line.data, line.len);
    buf_free(&line);
}

void pb_on_message(pb_channel ch, const uint8_t *payload, size_t len) {
    buf out = {0};
    codec_result r = json_to_msgpack(payload, len, &out);
    if (r.error) log_drop("json-msgpack: dropped a client frame (invalid JSON)", ch, r);
    else pb_chain_forward(ch, out.data, out.len);
    buf_free(&out);
}

static void on_send(pb_channel ch, const uint8_t *payload, size_t len) {
    buf out = {0};
    codec_result r = msgpack_to_json(payload, len, &out);
    if (r.error) log_drop("json-msgpack: dropped a frame to the client (msgpack without JSON form)", ch, r);
    else pb_channel_send(ch, out.data, out.len);
    buf_free(&out);
}

static void on_group_send(const char *group, size_t group_len, const uint8_t *payload, size_t len, pb_channel except) {
    buf out = {0};
    codec_result r = msgpack_to_json(payload, len, &out);
    if (r.error) log_drop("json-msgpack: dropped a group frame (msgpack without JSON form), except", except, r);
    else pb_group_send_n(group, group_len, out.data, out.len, except);
    buf_free(&out);
}

PB_FILTER(on_send, on_group_send)
