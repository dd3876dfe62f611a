/*
 * plugbroker C SDK: the world `plugbroker:plugin/plugin` (wit/plugin.wit) for plugins written in C.
 *
 * A plugin includes this header and defines the handlers it needs (every handler has a default:
 * accept every connection, ignore everything else):
 *
 *     #include <plugbroker.h>
 *
 *     void pb_on_message(pb_channel ch, const uint8_t *payload, size_t len) {
 *         pb_channel_send(ch, payload, len);
 *     }
 *
 * and is built with `broker build <dir>`, which compiles every `*.c` of the folder together with
 * the SDK's sources in `src/` (clang --target=wasm32 -nostdlib: there is no libc; the few libc
 * functions a plugin needs are declared below). See docs/plugins.md.
 *
 * Memory: arguments the broker passes (config, peer address, payload) are lent to the handler for
 * the duration of the call and freed by the SDK when it returns; copy what you keep, or take the
 * payload with `pb_keep_payload()`. Each of them is followed by a NUL byte, so text can be read as a
 * C string (a binary payload may also contain NULs: trust `len`). Buffers you pass to the broker
 * (`pb_channel_send`, `pb_log`) are only read during the call; you keep them.
 */
#ifndef PLUGBROKER_H
#define PLUGBROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Types (WIT interface `types`)                                                              */

/**
 * A connection handle (WIT `channel`), never 0. Dead once `pb_on_broken` has returned for it; the
 * broker does not hand the same number to a new connection while the plugin may still hold it.
 */
typedef uint32_t pb_channel;

/** Why a channel ended (WIT `close-reason`; the values are the WIT discriminants). */
typedef enum pb_close_reason {
    PB_CLOSE_PEER_CLOSED = 0,       /**< the peer closed the connection, or it failed */
    PB_CLOSE_PROTOCOL_ERROR = 1,    /**< the peer broke the framing protocol */
    PB_CLOSE_CLOSED_BY_PLUGIN = 2,  /**< the plugin called `pb_channel_close` */
    PB_CLOSE_REFUSED_BY_PLUGIN = 3, /**< `pb_on_connect` returned false */
    PB_CLOSE_HEARTBEAT_TIMEOUT = 4, /**< the peer was idle for longer than the idle timeout */
    PB_CLOSE_AUTH_TIMEOUT = 5,      /**< not authenticated before the auth deadline */
    PB_CLOSE_RATE_LIMITED = 6,      /**< the peer exceeded its frame or byte rate */
    PB_CLOSE_SLOW_CONSUMER = 7,     /**< the peer did not read and its outbound queue overflowed */
    PB_CLOSE_PLUGIN_FAILED = 8,     /**< a plugin call about this channel trapped */
    PB_CLOSE_SHUTDOWN = 9,          /**< the broker is shutting down */
    PB_CLOSE_CLOSED_BY_OPERATOR = 10, /**< an operator closed it through the broker's admin API */
} pb_close_reason;

/** Number of `pb_close_reason` values. */
#define PB_CLOSE_REASON_COUNT 11

/** Severity of a log line (WIT `log-level`). */
typedef enum pb_log_level {
    PB_LOG_TRACE = 0,
    PB_LOG_DEBUG = 1,
    PB_LOG_INFO = 2,
    PB_LOG_WARN = 3,
    PB_LOG_ERROR = 4,
} pb_log_level;

/** How the peer is connected (WIT `transport-kind`). */
typedef enum pb_transport_kind {
    PB_TRANSPORT_TCP = 0,       /**< TCP, in clear or over TLS (`secure`), with length-prefixed frames */
    PB_TRANSPORT_WEBSOCKET = 1, /**< one WebSocket message is one frame */
} pb_transport_kind;

/** Who is on the other end of a new channel (WIT `peer-info`). Lent for the `pb_on_connect` call. */
typedef struct pb_peer_info {
    const char *address;         /**< IP address as NUL-terminated UTF-8 (`127.0.0.1`, `::1`) */
    size_t address_len;          /**< bytes of `address`, without the NUL */
    uint16_t port;               /**< the peer's TCP port */
    pb_transport_kind transport; /**< how the peer is connected */
    bool secure;                 /**< the connection is encrypted (a `tls://` or `wss://` listener) */
    /**
     * True when the connection was already open and this fresh instance (after a trap, or a new
     * plugin version) is told about it before its next message: state of the previous instance is
     * gone, except the channel data (`pb_channel_get_data`).
     */
    bool resumed;
} pb_peer_info;

/** The WIT name of a close reason (`"peer-closed"`, …), for log lines; `"unknown"` out of range. */
const char *pb_close_reason_name(pb_close_reason reason);

/* ------------------------------------------------------------------------------------------ */
/* Handlers: define the ones you need; the SDK has a default for each (weak symbols).           */

/**
 * Called once per instance before anything else, with the text of `broker serve --plugin-config`
 * (NUL-terminated, `config_len` bytes; "" when none). Also called on each fresh instance after a
 * trap. Default: returns NULL.
 * @return NULL to serve, or an error message (NUL-terminated, with static storage or otherwise
 *         valid until the next call into the plugin) to refuse: the broker prints it and exits.
 */
const char *pb_on_start(const char *config, size_t config_len);

/** Called once at shutdown, after `pb_on_broken(…, PB_CLOSE_SHUTDOWN)` for every channel. */
void pb_on_stop(void);

/**
 * A peer connected (or, with `peer->resumed`, an open channel is handed to a fresh instance).
 * The plugin may already send to `ch` (a greeting). Default: returns true.
 * @return false to refuse: the broker closes the connection and calls
 *         `pb_on_broken(ch, PB_CLOSE_REFUSED_BY_PLUGIN)`.
 */
bool pb_on_connect(pb_channel ch, const pb_peer_info *peer);

/**
 * One frame arrived from `ch`: `len` bytes at `payload` (never 0: an empty frame is a heartbeat,
 * answered by the broker itself), followed by a NUL byte.
 * The bytes are lent until the handler returns; `pb_keep_payload()` takes them instead.
 */
void pb_on_message(pb_channel ch, const uint8_t *payload, size_t len);

/** `ch` ended for `reason`. It is dead once this returns: free what you kept for it. */
void pb_on_broken(pb_channel ch, pb_close_reason reason);

/**
 * Inside `pb_on_message` only: takes ownership of the current payload, which the SDK then does not
 * free. Release it with `pb_free` when done. Returns NULL outside `pb_on_message`.
 */
uint8_t *pb_keep_payload(void);

/* ------------------------------------------------------------------------------------------ */
/* Host functions (WIT interface `host`)                                                     */

#define PB_HOST_MODULE "plugbroker:plugin/host@0.2.0"

/* Raw imports with their canonical-ABI core signatures; use the wrappers below. */
__attribute__((import_module(PB_HOST_MODULE), import_name("channel-send")))
int32_t pb_raw_channel_send(uint32_t ch, const void *ptr, size_t len);
__attribute__((import_module(PB_HOST_MODULE), import_name("channel-close")))
void pb_raw_channel_close(uint32_t ch);
__attribute__((import_module(PB_HOST_MODULE), import_name("channel-authenticate")))
int32_t pb_raw_channel_authenticate(uint32_t ch);
__attribute__((import_module(PB_HOST_MODULE), import_name("log")))
void pb_raw_log(int32_t level, const char *ptr, size_t len);
__attribute__((import_module(PB_HOST_MODULE), import_name("now-ms")))
uint64_t pb_raw_now_ms(void);
__attribute__((import_module(PB_HOST_MODULE), import_name("channel-set-data")))
int32_t pb_raw_channel_set_data(uint32_t ch, const void *ptr, size_t len);

/** Return area of a host call that returns a `list<u8>`: the broker writes pointer and length. */
typedef struct pb_list_result {
    uint8_t *ptr;
    size_t len;
} pb_list_result;

__attribute__((import_module(PB_HOST_MODULE), import_name("channel-get-data")))
void pb_raw_channel_get_data(uint32_t ch, pb_list_result *ret);

size_t pb_strlen(const char *s);

/**
 * Queues one frame with the `len` bytes at `data` as its body. The broker copies the bytes before
 * returning. Returns false (and sends nothing) when the channel is dead or closing, the payload is
 * larger than the broker's frame limit, or the peer's outbound queue is full.
 */
static inline bool pb_channel_send(pb_channel ch, const void *data, size_t len) {
    return pb_raw_channel_send(ch, data, len) != 0;
}

/** `pb_channel_send` with a NUL-terminated string as the body (without the NUL). */
static inline bool pb_channel_send_str(pb_channel ch, const char *text) {
    return pb_raw_channel_send(ch, text, pb_strlen(text)) != 0;
}

/**
 * Closes `ch` after the frames already queued for it are written. `pb_on_broken(ch,
 * PB_CLOSE_CLOSED_BY_PLUGIN)` follows once the current handler returns. No-op on a dead channel.
 */
static inline void pb_channel_close(pb_channel ch) { pb_raw_channel_close(ch); }

/**
 * Marks `ch` authenticated: the broker's auth deadline (`--auth-deadline-ms`) and its
 * pre-authentication frame and byte budget stop applying to it. Call it once the peer proved who it
 * is. Returns false when the channel is dead or closing.
 */
static inline bool pb_channel_authenticate(pb_channel ch) { return pb_raw_channel_authenticate(ch) != 0; }

/** Writes `len` bytes of UTF-8 at `message` to the broker's log at `level` (cut at 4096 bytes). */
static inline void pb_log_n(pb_log_level level, const char *message, size_t len) {
    pb_raw_log((int32_t)level, message, len);
}

/** Writes a NUL-terminated UTF-8 message to the broker's log at `level`. */
static inline void pb_log(pb_log_level level, const char *message) {
    pb_raw_log((int32_t)level, message, pb_strlen(message));
}

/** Wall-clock milliseconds since the Unix epoch, as the broker sees it. */
static inline uint64_t pb_now_ms(void) { return pb_raw_now_ms(); }

/**
 * Stores the `len` bytes at `data` as the channel's data, replacing what was stored (`len` 0
 * clears it). Channel data is kept by the broker, not in plugin memory: it survives a trap (read it
 * back in `pb_on_connect` when `peer->resumed`) and a hot swap, and goes when the channel ends (it
 * is still readable in `pb_on_broken`). The broker copies the bytes before returning.
 * Returns false, and keeps what was stored, when `len` is above `--channel-data-max-bytes` (default
 * 4096) or the channel is dead or ending (inside its `pb_on_broken`).
 */
static inline bool pb_channel_set_data(pb_channel ch, const void *data, size_t len) {
    return pb_raw_channel_set_data(ch, data, len) != 0;
}

/**
 * The channel's data, as last stored with `pb_channel_set_data`: a block of `*len` bytes followed by
 * a NUL byte, which the caller owns and frees with `pb_free`. `*len` is 0 when nothing was stored or
 * the channel is dead (the block then holds just the NUL). Never NULL: the broker allocates the
 * block through `cabi_realloc` during the call, and a plugin whose memory cannot grow traps there.
 */
uint8_t *pb_channel_get_data(pb_channel ch, size_t *len);

/* ------------------------------------------------------------------------------------------ */
/* Groups (WIT interface `groups`): named sets of channels, one frame to all members            */

#define PB_GROUPS_MODULE "plugbroker:plugin/groups@0.2.0"

__attribute__((import_module(PB_GROUPS_MODULE), import_name("group-join")))
int32_t pb_raw_group_join(const char *group, size_t group_len, uint32_t ch);
__attribute__((import_module(PB_GROUPS_MODULE), import_name("group-leave")))
int32_t pb_raw_group_leave(const char *group, size_t group_len, uint32_t ch);
__attribute__((import_module(PB_GROUPS_MODULE), import_name("group-send")))
uint32_t pb_raw_group_send(const char *group, size_t group_len, const void *ptr, size_t len, uint32_t except);
__attribute__((import_module(PB_GROUPS_MODULE), import_name("group-size")))
uint32_t pb_raw_group_size(const char *group, size_t group_len);

/**
 * Adds `ch` to the group named by the NUL-terminated UTF-8 `group` (1 to 256 bytes). Joining twice
 * is a no-op that returns true. Returns false when the channel is dead or closing, the name is
 * empty or too long, or the channel is already in 1024 groups. A channel leaves all its groups
 * when it ends.
 */
static inline bool pb_group_join(const char *group, pb_channel ch) {
    return pb_raw_group_join(group, pb_strlen(group), ch) != 0;
}

/** Removes `ch` from `group`. Returns false when it was not a member. */
static inline bool pb_group_leave(const char *group, pb_channel ch) {
    return pb_raw_group_leave(group, pb_strlen(group), ch) != 0;
}

/**
 * Queues one frame with the `len` bytes at `data` for every member of `group` except `except`
 * (0: nobody). The broker encodes it once and copies the bytes before returning.
 * @return how many members it was queued for (0: no such group, or the payload is too large).
 */
static inline uint32_t pb_group_send(const char *group, const void *data, size_t len, pb_channel except) {
    return pb_raw_group_send(group, pb_strlen(group), data, len, except);
}

/** Number of members of `group` (0 when it does not exist). */
static inline uint32_t pb_group_size(const char *group) {
    return pb_raw_group_size(group, pb_strlen(group));
}

/* ------------------------------------------------------------------------------------------ */
/* Upstreams (WIT interface `upstreams`): channels to other servers, by logical service name    */

#define PB_UPSTREAMS_MODULE "plugbroker:plugin/upstreams@0.2.0"

__attribute__((import_module(PB_UPSTREAMS_MODULE), import_name("upstream-open")))
uint32_t pb_raw_upstream_open(const char *service, size_t service_len, const char *key, size_t key_len);

/**
 * Opens a channel to one node of `service` (a name from `broker serve --upstream`), chosen by the
 * service's policy; `key` picks the node for `consistent-hash` ("" otherwise). Both are
 * NUL-terminated UTF-8, at most 256 bytes. The channel is used like a client's: `pb_channel_send`,
 * `pb_channel_close`, groups; the node's frames arrive in `pb_on_message` and one `pb_on_broken`
 * ends it (no `pb_on_connect`). Returns 0 when the service is unknown or every node is ejected.
 */
static inline pb_channel pb_upstream_open(const char *service, const char *key) {
    return pb_raw_upstream_open(service, pb_strlen(service), key, pb_strlen(key));
}

/* ------------------------------------------------------------------------------------------ */
/* Timers (WIT interface `timers` and world `timed-plugin`)                                   */

#define PB_TIMERS_MODULE "plugbroker:plugin/timers@0.2.0"

__attribute__((import_module(PB_TIMERS_MODULE), import_name("timer-set")))
int32_t pb_raw_timer_set(uint64_t token, uint32_t delay_ms, int32_t repeat);
__attribute__((import_module(PB_TIMERS_MODULE), import_name("timer-cancel")))
int32_t pb_raw_timer_cancel(uint64_t token);

/**
 * Arms the timer `token` (any number you choose): the handler named in `PB_TIMED_PLUGIN` runs after
 * `delay_ms` milliseconds, then every `delay_ms` (at least 1) when `repeat`, until cancelled.
 * Setting an armed token re-arms it. Returns false without `PB_TIMED_PLUGIN`, or when 100 000
 * timers are armed. Timers belong to the instance: a fresh one after a trap re-arms from start.
 */
static inline bool pb_timer_set(uint64_t token, uint32_t delay_ms, bool repeat) {
    return pb_raw_timer_set(token, delay_ms, repeat) != 0;
}

/** Disarms the timer `token`. Returns false when it was not armed (or a one-shot already fired). */
static inline bool pb_timer_cancel(uint64_t token) { return pb_raw_timer_cancel(token) != 0; }

/**
 * Makes the plugin a `timed-plugin`: write `PB_TIMED_PLUGIN(on_timer)` once, in one `.c` file, with
 * `void on_timer(uint64_t token)` called when a timer is due (never during another call). It
 * exports `handle-timer`, whose core signature `(i64)` is the handler's own.
 */
#define PB_TIMED_PLUGIN(handler)                                                                   \
    __attribute__((export_name("handle-timer"))) void pb_export_handle_timer(uint64_t token) {     \
        handler(token);                                                                            \
    }

/* ------------------------------------------------------------------------------------------ */
/* Hot swap (world `stateful-plugin`)                                                         */

/** `snapshot`'s return area: a `list<u8>` as pointer then length. */
typedef struct pb_snapshot_result {
    uint8_t *ptr;
    size_t len;
} pb_snapshot_result;

/**
 * Makes the plugin a `stateful-plugin`, which keeps its state across `broker serve`'s hot swap
 * (SIGHUP): write `PB_STATEFUL_PLUGIN(save, load)` once, in one `.c` file, with
 *
 *     uint8_t *save(size_t *len);  // the state in a pb_malloc'd block (the SDK frees it once the
 *                                  // broker copied it), its size in *len; NULL for none
 *     void load(const uint8_t *state, size_t len);  // lent for the call, as a payload is
 *
 * On a swap the broker calls `save` on the old instance after its last call, then `load` on the
 * new one after its `start`; the new instance gets no `pb_on_connect` for the channels the state
 * knows. Put a version byte first: the new plugin may be another version.
 */
#define PB_STATEFUL_PLUGIN(save, load)                                                             \
    static pb_snapshot_result pb_snapshot_area;                                                    \
    __attribute__((export_name("snapshot"))) pb_snapshot_result *pb_export_snapshot(void) {        \
        size_t len = 0;                                                                            \
        uint8_t *state = save(&len);                                                               \
        pb_snapshot_area.ptr = state;                                                              \
        pb_snapshot_area.len = state != NULL ? len : 0;                                            \
        return &pb_snapshot_area;                                                                  \
    }                                                                                              \
    __attribute__((export_name("cabi_post_snapshot"))) void pb_export_post_snapshot(pb_snapshot_result *r) { \
        pb_free(r->ptr);                                                                           \
        r->ptr = NULL;                                                                             \
        r->len = 0;                                                                                \
    }                                                                                              \
    __attribute__((export_name("restore"))) void pb_export_restore(uint8_t *state, size_t len) {   \
        load(state, len);                                                                          \
        pb_free(state);                                                                            \
    }

/* ------------------------------------------------------------------------------------------ */
/* Memory and the few libc functions a freestanding plugin needs                               */

/**
 * Allocates `size` bytes, 8-byte aligned (also for size 0: a unique pointer). Returns NULL when
 * linear memory cannot grow. Blocks are recycled by size class (powers of two); linear memory
 * never shrinks, so a plugin's memory is the high-water mark of what it held at once.
 */
void *pb_malloc(size_t size);
/** `pb_malloc` with the bytes zeroed; NULL on overflow or when memory cannot grow. */
void *pb_calloc(size_t count, size_t size);
/** Resizes a block from `pb_malloc` (NULL: allocates); the contents up to the smaller size stay. */
void *pb_realloc(void *ptr, size_t size);
/** Frees a block from `pb_malloc`/`pb_calloc`/`pb_realloc`/`pb_keep_payload`. NULL does nothing. */
void pb_free(void *ptr);

/* ------------------------------------------------------------------------------------------ */
/* Plugin chains (world `filter`, interface `chain`)                                          */

#define PB_CHAIN_MODULE "plugbroker:plugin/chain@0.2.0"

__attribute__((import_module(PB_CHAIN_MODULE), import_name("chain-forward")))
int32_t pb_raw_chain_forward(uint32_t ch, const void *ptr, size_t len);

/**
 * Filters only: passes one frame with the `len` bytes at `data` on to the next plugin of the chain,
 * as a frame of `ch` (it gets it in its `pb_on_message` after the current handler returns). The
 * bytes are copied. Returns false (and passes nothing) when the channel is dead or closing or an
 * upstream channel, or the payload is empty or above the broker's frame limit.
 */
static inline bool pb_chain_forward(pb_channel ch, const void *data, size_t len) {
    return pb_raw_chain_forward(ch, data, len) != 0;
}

/** `pb_group_send` with a name of `group_len` bytes (not NUL-terminated), as `pb_on_group_send` gets it. */
static inline uint32_t pb_group_send_n(const char *group, size_t group_len, const void *data, size_t len, pb_channel except) {
    return pb_raw_group_send(group, group_len, data, len, except);
}

/**
 * Makes the plugin a `filter` of a plugin chain (`broker serve --plugin filter.wasm --plugin
 * app.wasm`; wit/plugin.wit world `filter`): write `PB_FILTER(on_send, on_group_send)` once, in one
 * `.c` file, with
 *
 *     void on_send(pb_channel ch, const uint8_t *payload, size_t len);
 *     void on_group_send(const char *group, size_t group_len, const uint8_t *payload, size_t len,
 *                        pb_channel except);
 *
 * called when the plugin after this one sends towards the client: pass the frame on with
 * `pb_channel_send` / `pb_group_send_n` (changed or not) or drop it. Frames from the client arrive
 * in `pb_on_message`: pass them on with `pb_chain_forward`, answer with `pb_channel_send`, or drop
 * them (the default `pb_on_message` drops everything, so a filter defines it). The group name is
 * not NUL-terminated. The bytes are lent until the handler returns.
 */
#define PB_FILTER(on_send, on_group_send)                                                          \
    __attribute__((export_name("handle-send"))) void pb_export_handle_send(uint32_t ch, uint8_t *payload, size_t len) { \
        on_send(ch, payload, len);                                                                 \
        pb_free(payload);                                                                          \
    }                                                                                              \
    __attribute__((export_name("handle-group-send"))) void pb_export_handle_group_send(            \
        char *group, size_t group_len, uint8_t *payload, size_t len, uint32_t except) {            \
        on_group_send(group, group_len, payload, len, except);                                     \
        pb_free(payload);                                                                          \
        pb_free(group);                                                                            \
    }

/* clang lowers these to bulk-memory instructions (or calls the SDK's definitions). */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* PLUGBROKER_H */
