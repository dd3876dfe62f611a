/*
 * Chat: rooms (broker groups), a delayed reply (a broker timer) and a question for a backend
 * service (a broker upstream). Commands, one per frame:
 *
 *   join <room>          joins the room (1 to 64 bytes); reply `joined <room> <members>`
 *   leave <room>         leaves it; reply `left <room>`, or `not in <room>`
 *   say <room> <text>    sends `<room>: <text>` to every other member; reply `sent <count>`
 *   ping <ms>            reply `pong` after <ms> milliseconds (0 to 60000); a new ping replaces one
 *                        still pending
 *   cancel               cancels the pending ping; reply `cancelled`, or `no ping pending`
 *   ask <text>           sends <text> to a node of the `logic` service on a new upstream channel
 *                        and relays the node's answer; `error: no logic node` when there is none
 *
 * Anything else gets `error: unknown command`. Rooms live in the broker (a channel leaves them when
 * it ends), and a ping's timer token is the channel's handle, cancelled when the channel ends. The
 * only state the plugin keeps is which client each open question belongs to.
 */
#include <plugbroker.h>

#define MAX_ROOM_BYTES 64
#define MAX_PING_MS 60000u
#define MAX_REPLY_BYTES 96 /* `joined <room> <members>` and the other replies fit */
#define MAX_QUESTIONS 256  /* questions open at once, over all clients */
#define LOGIC_SERVICE "logic"

/** An open question: the upstream channel it went out on, and the client that asked. */
typedef struct question {
    pb_channel upstream;
    pb_channel client;
} question;

static question questions[MAX_QUESTIONS];
static size_t question_count;

/** Index of the question sent on `upstream`, or -1. */
static long question_on(pb_channel upstream) {
    for (size_t i = 0; i < question_count; i++) {
        if (questions[i].upstream == upstream) return (long)i;
    }
    return -1;
}

static void forget_question(size_t i) {
    questions[i] = questions[--question_count];
}

/** A reply under construction. */
typedef struct text {
    char bytes[MAX_REPLY_BYTES];
    size_t len;
} text;

static void append(text *t, const void *p, size_t n) {
    memcpy(t->bytes + t->len, p, n);
    t->len += n;
}

static void append_str(text *t, const char *s) {
    append(t, s, pb_strlen(s));
}

static void append_u32(text *t, uint32_t n) {
    char digits[10];
    size_t len = 0;
    do {
        digits[len++] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    while (len > 0) t->bytes[t->len++] = digits[--len];
}

/** True when `payload` starts with the NUL-terminated `word`; `*arg` is then what follows it. */
static bool command(const uint8_t *payload, size_t len, const char *word, const uint8_t **arg, size_t *arg_len) {
    size_t n = pb_strlen(word);
    if (len < n || memcmp(payload, word, n) != 0) return false;
    *arg = payload + n;
    *arg_len = len - n;
    return true;
}

/** All of `p[0..len)` as a decimal number up to `max`. */
static bool parse_u32(const uint8_t *p, size_t len, uint32_t max, uint32_t *out) {
    if (len == 0 || len > 5) return false;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        n = n * 10 + (uint64_t)(p[i] - '0');
    }
    if (n > max) return false;
    *out = (uint32_t)n;
    return true;
}

static void join(pb_channel ch, const char *room, size_t room_len) {
    text t = {.len = 0};
    if (pb_raw_group_join(room, room_len, ch) == 0) {
        append_str(&t, "error: cannot join");
    } else {
        append_str(&t, "joined ");
        append(&t, room, room_len);
        append_str(&t, " ");
        append_u32(&t, pb_raw_group_size(room, room_len));
    }
    pb_channel_send(ch, t.bytes, t.len);
}

static void leave(pb_channel ch, const char *room, size_t room_len) {
    text t = {.len = 0};
    append_str(&t, pb_raw_group_leave(room, room_len, ch) != 0 ? "left " : "not in ");
    append(&t, room, room_len);
    pb_channel_send(ch, t.bytes, t.len);
}

/** `say <room> <text>`: `arg` is `<room> <text>`. */
static void say(pb_channel ch, const uint8_t *arg, size_t arg_len) {
    size_t room_len = 0;
    while (room_len < arg_len && arg[room_len] != ' ') room_len++;
    if (room_len == 0 || room_len > MAX_ROOM_BYTES || room_len == arg_len) {
        pb_channel_send_str(ch, "error: unknown command");
        return;
    }
    /* `<room>: <text>`, built in a heap block: the text may be as large as a frame. */
    size_t text_len = arg_len - room_len - 1;
    uint8_t *frame = pb_malloc(room_len + 2 + text_len);
    if (frame == NULL) return;
    memcpy(frame, arg, room_len);
    memcpy(frame + room_len, ": ", 2);
    memcpy(frame + room_len + 2, arg + room_len + 1, text_len);
    uint32_t sent = pb_raw_group_send((const char *)arg, room_len, frame, room_len + 2 + text_len, ch);
    pb_free(frame);

    text t = {.len = 0};
    append_str(&t, "sent ");
    append_u32(&t, sent);
    pb_channel_send(ch, t.bytes, t.len);
}

/** `ask <text>`: one upstream channel per question, closed once the answer is relayed. */
static void ask(pb_channel client, const uint8_t *text, size_t len) {
    pb_channel upstream = question_count < MAX_QUESTIONS ? pb_upstream_open(LOGIC_SERVICE, "") : 0;
    if (upstream == 0) {
        pb_channel_send_str(client, "error: no logic node");
        return;
    }
    questions[question_count++] = (question){.upstream = upstream, .client = client};
    pb_channel_send(upstream, text, len); /* queued until the node accepts the connection */
}

void pb_on_message(pb_channel ch, const uint8_t *payload, size_t len) {
    const uint8_t *arg;
    size_t arg_len;
    uint32_t ms;
    long q = question_on(ch);
    if (q >= 0) { /* a node answered */
        pb_channel_send(questions[q].client, payload, len);
        pb_channel_close(ch);
        forget_question((size_t)q);
        return;
    }
    if (command(payload, len, "join ", &arg, &arg_len) && arg_len > 0 && arg_len <= MAX_ROOM_BYTES) {
        join(ch, (const char *)arg, arg_len);
    } else if (command(payload, len, "leave ", &arg, &arg_len) && arg_len > 0 && arg_len <= MAX_ROOM_BYTES) {
        leave(ch, (const char *)arg, arg_len);
    } else if (command(payload, len, "say ", &arg, &arg_len)) {
        say(ch, arg, arg_len);
    } else if (command(payload, len, "ping ", &arg, &arg_len) && parse_u32(arg, arg_len, MAX_PING_MS, &ms)) {
        pb_timer_set(ch, ms, false);
    } else if (len == 6 && memcmp(payload, "cancel", 6) == 0) {
        pb_channel_send_str(ch, pb_timer_cancel(ch) ? "cancelled" : "no ping pending");
    } else if (command(payload, len, "ask ", &arg, &arg_len)) {
        ask(ch, arg, arg_len);
    } else {
        pb_channel_send_str(ch, "error: unknown command");
    }
}

/** A ping's timer is due: its token is the channel that asked. */
static void on_timer(uint64_t token) {
    pb_channel_send_str((pb_channel)token, "pong");
}

PB_TIMED_PLUGIN(on_timer)

void pb_on_broken(pb_channel ch, pb_close_reason reason) {
    (void)reason;
    long q = question_on(ch);
    if (q >= 0) { /* the node went away before answering */
        pb_channel_send_str(questions[q].client, "error: logic node lost");
        forget_question((size_t)q);
        return;
    }
    pb_timer_cancel(ch); /* a ping still pending must not fire for a dead channel */
    for (size_t i = 0; i < question_count;) { /* nobody is waiting for these answers any more */
        if (questions[i].client == ch) {
            pb_channel_close(questions[i].upstream);
            forget_question(i);
        } else {
            i++;
        }
    }
}
