/*
 * Login: a stateful sample. The first frame must be `login <name>` (a name of 1 to 32 bytes); the
 * plugin answers `<greeting> <name>` and from then on echoes every frame prefixed with `<name>: `.
 * Any other first frame is answered with `error: expected "login <name>"` and the channel is
 * closed. A logged-in channel is marked authenticated, so `--auth-deadline-ms` closes only peers
 * that never log in. The greeting is the plugin config (`--plugin-config`), `welcome` when empty; a config
 * longer than 32 bytes refuses to start.
 *
 * Per-channel state lives in a hash table of heap-allocated sessions, created in pb_on_connect and
 * freed in pb_on_broken, so memory stays flat however many connections come and go. The plugin is
 * a `stateful-plugin`: on a hot swap (SIGHUP) the sessions move to the new instance, so logged-in
 * peers stay logged in. A channel it does not know (after a swap from a version whose state it
 * cannot read) starts over, as if it had just connected. The name is also stored as the channel's
 * data (pb_channel_set_data), which the broker keeps: after a trap the fresh instance reads it back
 * when the channel resumes, so a logged-in peer stays logged in. To show it, a logged-in peer's
 * frame `!trap` makes the plugin trap (this is a sample: a real plugin has no such command).
 */
#include <plugbroker.h>

#define MAX_NAME_BYTES 32
#define MAX_GREETING_BYTES 32
#define LOGIN_PREFIX "login "
#define LOGIN_PREFIX_BYTES (sizeof LOGIN_PREFIX - 1)
#define ERROR_REPLY "error: expected \"login <name>\""
#define SNAPSHOT_VERSION 1

typedef struct session {
    struct session *next; /* next session in the same bucket */
    pb_channel ch;
    uint8_t name_len;     /* 0 until logged in */
    char name[MAX_NAME_BYTES];
} session;

static char greeting[MAX_GREETING_BYTES];
static size_t greeting_len;

/* Separate chaining; the bucket array doubles when sessions outnumber buckets twice. */
static session **buckets;
static size_t bucket_count;
static size_t session_count;

static size_t bucket_of(pb_channel ch, size_t count) {
    return (ch * 2654435761u) & (count - 1);
}

static bool grow_buckets(void) {
    size_t count = bucket_count == 0 ? 64 : bucket_count * 2;
    session **fresh = pb_calloc(count, sizeof *fresh);
    if (fresh == NULL) return false;
    for (size_t i = 0; i < bucket_count; i++) {
        session *s = buckets[i];
        while (s != NULL) {
            session *next = s->next;
            size_t b = bucket_of(s->ch, count);
            s->next = fresh[b];
            fresh[b] = s;
            s = next;
        }
    }
    pb_free(buckets);
    buckets = fresh;
    bucket_count = count;
    return true;
}

static session **slot_of(pb_channel ch) {
    if (bucket_count == 0) return NULL;
    session **slot = &buckets[bucket_of(ch, bucket_count)];
    while (*slot != NULL && (*slot)->ch != ch) slot = &(*slot)->next;
    return slot;
}

const char *pb_on_start(const char *config, size_t config_len) {
    if (config_len > MAX_GREETING_BYTES) return "greeting longer than 32 bytes";
    if (config_len == 0) {
        config = "welcome";
        config_len = pb_strlen(config);
    }
    memcpy(greeting, config, config_len);
    greeting_len = config_len;
    return NULL;
}

/** A new, not yet logged-in session for `ch`; NULL when memory is exhausted. */
static session *add_session(pb_channel ch) {
    if (session_count >= bucket_count * 2 && !grow_buckets()) return NULL;
    session *s = pb_malloc(sizeof *s);
    if (s == NULL) return NULL;
    s->ch = ch;
    s->name_len = 0;
    /* A resumed channel (after a trap) keeps its login: the name is the channel's data, which the
     * broker keeps across a trap. */
    size_t data_len = 0;
    uint8_t *data = pb_channel_get_data(ch, &data_len);
    if (data_len > 0 && data_len <= MAX_NAME_BYTES) {
        memcpy(s->name, data, data_len);
        s->name_len = (uint8_t)data_len;
    }
    pb_free(data);
    session **head = &buckets[bucket_of(ch, bucket_count)];
    s->next = *head;
    *head = s;
    session_count++;
    return s;
}

bool pb_on_connect(pb_channel ch, const pb_peer_info *peer) {
    (void)peer; /* a resumed channel (after a trap) keeps its login: see add_session */
    return add_session(ch) != NULL;
}

/** Sends `a` then `b` as one frame. */
static void send_joined(pb_channel ch, const char *a, size_t a_len, const uint8_t *b, size_t b_len) {
    uint8_t *frame = pb_malloc(a_len + b_len);
    if (frame == NULL) return;
    memcpy(frame, a, a_len);
    memcpy(frame + a_len, b, b_len);
    pb_channel_send(ch, frame, a_len + b_len);
    pb_free(frame);
}

static void log_in(pb_channel ch, session *s, const uint8_t *payload, size_t len) {
    if (len <= LOGIN_PREFIX_BYTES || len > LOGIN_PREFIX_BYTES + MAX_NAME_BYTES ||
        memcmp(payload, LOGIN_PREFIX, LOGIN_PREFIX_BYTES) != 0) {
        pb_channel_send_str(ch, ERROR_REPLY);
        pb_channel_close(ch);
        return;
    }
    size_t name_len = len - LOGIN_PREFIX_BYTES;
    memcpy(s->name, payload + LOGIN_PREFIX_BYTES, name_len);
    s->name_len = (uint8_t)name_len;
    pb_channel_set_data(ch, s->name, name_len); /* kept by the broker: survives a trap */
    pb_channel_authenticate(ch); /* lifts the broker's auth deadline (--auth-deadline-ms) */

    char reply[MAX_GREETING_BYTES + 1];
    memcpy(reply, greeting, greeting_len);
    reply[greeting_len] = ' ';
    send_joined(ch, reply, greeting_len + 1, (const uint8_t *)s->name, name_len);

    char line[MAX_NAME_BYTES + sizeof " logged in"];
    memcpy(line, s->name, name_len);
    memcpy(line + name_len, " logged in", sizeof " logged in" - 1);
    pb_log_n(PB_LOG_INFO, line, name_len + sizeof " logged in" - 1);
}

void pb_on_message(pb_channel ch, const uint8_t *payload, size_t len) {
    session **slot = slot_of(ch);
    session *s = slot != NULL ? *slot : NULL;
    if (s == NULL && (s = add_session(ch)) == NULL) return;
    if (s->name_len == 0) {
        log_in(ch, s, payload, len);
        return;
    }
    if (len == 5 && memcmp(payload, "!trap", 5) == 0) __builtin_trap(); /* the demo of a trap (see the top) */
    char prefix[MAX_NAME_BYTES + 2];
    memcpy(prefix, s->name, s->name_len);
    prefix[s->name_len] = ':';
    prefix[s->name_len + 1] = ' ';
    send_joined(ch, prefix, s->name_len + 2u, payload, len);
}

void pb_on_broken(pb_channel ch, pb_close_reason reason) {
    (void)reason;
    session **slot = slot_of(ch);
    if (slot == NULL || *slot == NULL) return;
    session *s = *slot;
    *slot = s->next;
    pb_free(s);
    session_count--;
}

/* Hot swap. State: a version byte, then per session its channel (u32, little-endian), the name's
 * length (0: not logged in) and the name. */

static uint8_t *save_sessions(size_t *len) {
    size_t size = 1;
    for (size_t i = 0; i < bucket_count; i++) {
        for (session *s = buckets[i]; s != NULL; s = s->next) size += 5u + s->name_len;
    }
    uint8_t *state = pb_malloc(size);
    if (state == NULL) return NULL;
    uint8_t *p = state;
    *p++ = SNAPSHOT_VERSION;
    for (size_t i = 0; i < bucket_count; i++) {
        for (session *s = buckets[i]; s != NULL; s = s->next) {
            memcpy(p, &s->ch, 4); /* wasm is little-endian */
            p[4] = s->name_len;
            memcpy(p + 5, s->name, s->name_len);
            p += 5u + s->name_len;
        }
    }
    *len = size;
    return state;
}

static void load_sessions(const uint8_t *state, size_t len) {
    if (len == 0 || state[0] != SNAPSHOT_VERSION) return; /* unknown: channels start over */
    size_t at = 1;
    while (at + 5 <= len) {
        pb_channel ch;
        memcpy(&ch, state + at, 4);
        uint8_t name_len = state[at + 4];
        if (name_len > MAX_NAME_BYTES || at + 5u + name_len > len) return;
        session *s = add_session(ch);
        if (s == NULL) return;
        memcpy(s->name, state + at + 5, name_len);
        s->name_len = name_len;
        at += 5u + name_len;
    }
}

PB_STATEFUL_PLUGIN(save_sessions, load_sessions)
