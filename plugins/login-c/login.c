/*
 * Login: a stateful sample. The first frame must be `login <name>` (a name of 1 to 32 bytes); the
 * plugin answers `<greeting> <name>` and from then on echoes every frame prefixed with `<name>: `.
 * Any other first frame is answered with `error: expected "login <name>"` and the channel is
 * closed. A logged-in channel is marked authenticated, so `--auth-deadline-ms` closes only peers
 * that never log in. The greeting is the plugin config (`--plugin-config`), `welcome` when empty; a config
 * longer than 32 bytes refuses to start.
 *
 * Per-channel state lives in a hash table of heap-allocated sessions, created in pb_on_connect and
 * freed in pb_on_broken, so memory stays flat however many connections come and go.
 */
#include <plugbroker.h>

#define MAX_NAME_BYTES 32
#define MAX_GREETING_BYTES 32
#define LOGIN_PREFIX "login "
#define LOGIN_PREFIX_BYTES (sizeof LOGIN_PREFIX - 1)
#define ERROR_REPLY "error: expected \"login <name>\""

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

bool pb_on_connect(pb_channel ch, const pb_peer_info *peer) {
    (void)peer; /* a resumed channel starts over: it must log in again */
    if (session_count >= bucket_count * 2 && !grow_buckets()) return false;
    session *s = pb_malloc(sizeof *s);
    if (s == NULL) return false;
    s->ch = ch;
    s->name_len = 0;
    session **head = &buckets[bucket_of(ch, bucket_count)];
    s->next = *head;
    *head = s;
    session_count++;
    return true;
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
    if (s == NULL) return; /* unknown channel: cannot happen under the calling rules */
    if (s->name_len == 0) {
        log_in(ch, s, payload, len);
        return;
    }
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
