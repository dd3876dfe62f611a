/*
 * The canonical-ABI side of the world `plugbroker:plugin/plugin`: `cabi_realloc` and one core
 * export per WIT export, each lifting its arguments and calling the plugin's handler. Core
 * signatures are the canonical ABI flattening of wit/plugin.wit with UTF-8 strings (`broker build`
 * embeds the WIT with string-encoding=utf8): a string or list<u8> is (ptr, len), u16/u32/bool/enum
 * are i32, `result<_, string>` returns a pointer to a return area.
 */
#include <plugbroker.h>

#define PB_EXPORT(name) __attribute__((export_name(name)))

/* ------------------------------------------------------------------------------------------ */
/* Default handlers: weak, so a plugin defines only those it needs.                           */

__attribute__((weak)) const char *pb_on_start(const char *config, size_t config_len) {
    (void)config;
    (void)config_len;
    return NULL;
}

__attribute__((weak)) void pb_on_stop(void) {}

__attribute__((weak)) bool pb_on_connect(pb_channel ch, const pb_peer_info *peer) {
    (void)ch;
    (void)peer;
    return true;
}

__attribute__((weak)) void pb_on_message(pb_channel ch, const uint8_t *payload, size_t len) {
    (void)ch;
    (void)payload;
    (void)len;
}

__attribute__((weak)) void pb_on_broken(pb_channel ch, pb_close_reason reason) {
    (void)ch;
    (void)reason;
}

/* ------------------------------------------------------------------------------------------ */
/* Allocation                                                                                 */

/**
 * Called by the broker to allocate (old_ptr 0) or resize the buffers it lowers into the plugin.
 * One byte more than asked is reserved so that the SDK can NUL-terminate every string and payload
 * it hands to a handler. Traps when memory cannot grow: the canonical ABI has no failure value.
 */
PB_EXPORT("cabi_realloc") void *cabi_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    if (align > 8) __builtin_trap(); /* blocks are 8-byte aligned; this world never asks more */
    void *ptr = old_ptr == NULL ? pb_malloc(new_size + 1) : pb_realloc(old_ptr, new_size + 1);
    if (ptr == NULL) __builtin_trap();
    return ptr;
}

/* ------------------------------------------------------------------------------------------ */
/* Exports                                                                                    */

/** `start`'s return area: result<_, string> = discriminant byte, then the error's ptr and len. */
static struct {
    uint8_t is_err;
    const char *ptr;
    size_t len;
} start_result;

PB_EXPORT("start") void *pb_export_start(char *config, size_t config_len) {
    config[config_len] = '\0';
    const char *error = pb_on_start(config, config_len);
    pb_free(config);
    start_result.is_err = error != NULL;
    start_result.ptr = error;
    start_result.len = error != NULL ? pb_strlen(error) : 0;
    return &start_result;
}

PB_EXPORT("stop") void pb_export_stop(void) {
    pb_on_stop();
}

PB_EXPORT("handle-connect") int32_t pb_export_handle_connect(uint32_t ch, char *address, size_t address_len,
                                                            uint32_t port, uint32_t transport, uint32_t secure,
                                                            uint32_t resumed) {
    /* Out-of-range discriminants are a host bug; trap like the canonical ABI does. */
    if (transport > PB_TRANSPORT_WEBSOCKET || secure > 1 || resumed > 1 || port > 0xffff) __builtin_trap();
    address[address_len] = '\0';
    pb_peer_info peer = {
        .address = address,
        .address_len = address_len,
        .port = (uint16_t)port,
        .transport = (pb_transport_kind)transport,
        .secure = secure != 0,
        .resumed = resumed != 0,
    };
    bool accepted = pb_on_connect(ch, &peer);
    pb_free(address);
    return accepted;
}

/** The payload `pb_on_message` is handling; NULL once kept or outside the call. */
static uint8_t *current_payload;

uint8_t *pb_keep_payload(void) {
    uint8_t *payload = current_payload;
    current_payload = NULL;
    return payload;
}

PB_EXPORT("handle-msg") void pb_export_handle_msg(uint32_t ch, uint8_t *payload, size_t len) {
    payload[len] = 0;
    current_payload = payload;
    pb_on_message(ch, payload, len);
    /* Still set unless the handler kept it: the broker's buffer belongs to the plugin, free it. */
    pb_free(current_payload);
    current_payload = NULL;
}

PB_EXPORT("handle-broken") void pb_export_handle_broken(uint32_t ch, uint32_t reason) {
    if (reason >= PB_CLOSE_REASON_COUNT) __builtin_trap();
    pb_on_broken(ch, (pb_close_reason)reason);
}

/* ------------------------------------------------------------------------------------------ */
/* Host calls that return a list                                                              */

uint8_t *pb_channel_get_data(pb_channel ch, size_t *len) {
    /* The broker allocates the bytes through cabi_realloc (one byte more: room for the NUL). */
    pb_list_result result = {NULL, 0};
    pb_raw_channel_get_data(ch, &result);
    if (result.ptr == NULL) __builtin_trap(); /* a host that skipped cabi_realloc: a host bug */
    result.ptr[result.len] = 0;
    *len = result.len;
    return result.ptr;
}

/* ------------------------------------------------------------------------------------------ */

const char *pb_close_reason_name(pb_close_reason reason) {
    static const char *const names[PB_CLOSE_REASON_COUNT] = {
        "peer-closed",   "protocol-error", "closed-by-plugin", "refused-by-plugin", "heartbeat-timeout",
        "auth-timeout",  "rate-limited",   "slow-consumer",    "plugin-failed",     "shutdown",
        "closed-by-operator",
    };
    return (unsigned)reason < PB_CLOSE_REASON_COUNT ? names[reason] : "unknown";
}
