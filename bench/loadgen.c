/*
 * loadgen: closed-loop load generator for echo servers speaking "<len>\n<body>" (--wire decimal,
 * the default), 4-byte big-endian lengths (--wire binary), or WebSocket (--wire ws: an HTTP upgrade
 * to --path, then one masked binary message per frame; replies are unmasked server frames).
 * --tls wraps any of them in TLS (OpenSSL, no certificate check: a benchmark against 127.0.0.1).
 *
 * Load mode: N connections each keep P frames of B body bytes in flight against 127.0.0.1:PORT.
 * Every reply must be the exact frame that was sent (replies arrive in order per connection);
 * anything else counts as an error. After a warm-up it measures for a fixed window (or until a
 * message count is reached) and prints one JSON line: msgs/s, round-trip latency percentiles and,
 * given --pid, the server's CPU time per message read from /proc/<pid>/stat.
 *
 * Idle mode (--idle): opens N connections, sends one frame on each and waits for its echo (proof the
 * server accepted and served it), prints {"ready":true,...}, then holds the connections open until
 * stdin reaches EOF or --hold-s elapses. The runner samples the server's RSS in between.
 *
 * Written in C, single-threaded with epoll, so that it costs a fraction of the server it measures
 * on a 2-core machine (a generator in the server's language competes for the same cores).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define READ_CHUNK_BYTES 65536
#define MAX_EVENTS 1024
#define MAX_LENGTH_DIGITS 10
/* Bodies are windows into a repeating alphabet, shifted by the frame's sequence number, so a
 * dropped, duplicated or reordered frame shows up as a byte mismatch. */
#define PATTERN_PERIOD 26
#define CONNECT_RETRY_DELAY_NS 10000000u

struct options {
    int port;
    int conns;
    int inflight;
    int size_bytes;
    double warmup_s;
    double measure_s;
    uint64_t max_msgs;
    pid_t server_pid;
    bool idle;
    double hold_s;
    double connect_timeout_s;
    int connect_batch;
    enum { WIRE_DECIMAL, WIRE_BINARY, WIRE_WS } wire;
    const char *path;
    bool tls;
};

enum conn_state { CONN_NEW, CONN_CONNECTING, CONN_OPEN, CONN_CLOSED };
enum parse_state { PARSE_LENGTH, PARSE_BODY };

struct conn {
    int fd;
    SSL *ssl; /* --tls */
    enum conn_state state;
    bool want_write; /* EPOLLOUT registered because a send was short */
    /* Frames go out in sequence; replies must come back in the same sequence. */
    uint64_t next_send_seq;
    uint64_t next_recv_seq;
    uint64_t *sent_at_ns; /* ring of P send timestamps, indexed by seq % P */
    char *out;            /* queued bytes not yet accepted by the kernel */
    size_t out_off, out_len;
    /* Reply parser state. */
    enum parse_state pstate;
    uint64_t reply_length;
    int reply_digits;
    size_t body_off;
    bool body_mismatch;
};

/* Log-linear latency histogram in nanoseconds: exact below 64 ns, then 32 buckets per power of
 * two (≤ 3 % error), in the spirit of HdrHistogram, without per-sample allocation. */
#define HIST_SUB_BITS 5
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS)
#define HIST_LINEAR_MAX (2u * HIST_SUB_COUNT)
#define HIST_BUCKETS (HIST_LINEAR_MAX + 64u * HIST_SUB_COUNT)

struct stats {
    uint64_t replies;       /* good replies since start */
    uint64_t errors;        /* bad replies, protocol errors, unexpected closes */
    uint64_t closed_conns;  /* connections the server closed */
    uint64_t hist[HIST_BUCKETS];
    uint64_t hist_count;
    uint64_t hist_max_ns;
    bool recording;         /* only the measuring window feeds the histogram */
};

static struct options opt;
static struct conn *conns;
static struct stats st;
static int epfd;
static char header[16];
static size_t header_len;
/* Every reply has the same header (the same body length): compared byte by byte. */
static char reply_header[16];
static size_t reply_header_len;
/* WebSocket client frames are masked (RFC 6455 §5.3); a fixed key is enough for a benchmark. */
static const unsigned char WS_MASK[4] = { 0x37, 0xfa, 0x21, 0x3d };
static size_t frame_len;
static char *pattern; /* PATTERN_PERIOD + B bytes of repeating alphabet */
static int open_conns;
static SSL_CTX *ssl_ctx;

/* send()/recv() through TLS when --tls: same return conventions (errno EAGAIN when it would block). */
static ssize_t io_send(struct conn *c, const void *buf, size_t n) {
    if (!c->ssl) return send(c->fd, buf, n, MSG_NOSIGNAL);
    int r = SSL_write(c->ssl, buf, (int)n);
    if (r > 0) return r;
    int e = SSL_get_error(c->ssl, r);
    errno = (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) ? EAGAIN : EPIPE;
    return -1;
}
static ssize_t io_recv(struct conn *c, void *buf, size_t n) {
    if (!c->ssl) return recv(c->fd, buf, n, 0);
    int r = SSL_read(c->ssl, buf, (int)n);
    if (r > 0) return r;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) { errno = EAGAIN; return -1; }
    return 0;
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t seconds_to_ns(double s) { return (uint64_t)(s * 1e9); }

/* ---------- latency histogram ---------- */

static unsigned hist_index(uint64_t v) {
    if (v < HIST_LINEAR_MAX) return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - HIST_SUB_BITS;
    return HIST_LINEAR_MAX + (shift - 1u) * HIST_SUB_COUNT + (unsigned)(v >> shift) - HIST_SUB_COUNT;
}

/* Midpoint of a bucket, in nanoseconds. */
static double hist_value(unsigned i) {
    if (i < HIST_LINEAR_MAX) return i;
    unsigned shift = (i - HIST_LINEAR_MAX) / HIST_SUB_COUNT + 1u;
    uint64_t mantissa = (i - HIST_LINEAR_MAX) % HIST_SUB_COUNT + HIST_SUB_COUNT;
    return (double)(mantissa << shift) + (double)(1ull << shift) / 2.0;
}

static void hist_record(uint64_t ns) {
    st.hist[hist_index(ns)]++;
    st.hist_count++;
    if (ns > st.hist_max_ns) st.hist_max_ns = ns;
}

static double hist_percentile_us(double q) {
    if (st.hist_count == 0) return NAN;
    uint64_t target = (uint64_t)ceil(q * (double)st.hist_count);
    if (target == 0) target = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += st.hist[i];
        if (seen >= target) return hist_value(i) / 1000.0;
    }
    return (double)st.hist_max_ns / 1000.0;
}

/* ---------- CPU accounting ---------- */

/* utime + stime of every thread of the process, in clock ticks; -1 if unreadable. */
static long long proc_cpu_ticks(pid_t pid) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name (field 2) may contain spaces and ')': fields resume after the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long long utime, stime;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (long long)(utime + stime);
}

static double self_cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* ---------- connections ---------- */

static void raise_nofile_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && (rlim_t)opt.conns + 16 > rl.rlim_cur)
        die("%d connections need more than the open-files limit %llu", opt.conns, (unsigned long long)rl.rlim_cur);
}

static void epoll_set(struct conn *c, int op, uint32_t events) {
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(epfd, op, c->fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
}

static void close_conn(struct conn *c) {
    if (c->ssl) SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd);
    c->fd = -1;
    c->state = CONN_CLOSED;
    open_conns--;
}

/* The server hung up or broke the protocol: the connection's outstanding frames are lost. */
static void fail_conn(struct conn *c) {
    st.errors++;
    st.closed_conns++;
    close_conn(c);
}

/* Returns 0 when the connect is under way, else the errno of a transient failure worth retrying. */
static int start_connect(struct conn *c, const struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    int one = 1;
    /* Frames are written as soon as replies arrive; Nagle would hold them behind unacked data. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0 && errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        if (err == EAGAIN || err == EADDRNOTAVAIL || err == EINTR || err == ENOBUFS) return err;
        die("connect: %s", strerror(err));
    }
    c->fd = fd;
    c->state = CONN_CONNECTING;
    epoll_set(c, EPOLL_CTL_ADD, EPOLLOUT);
    return 0;
}

/*
 * Opens every connection, at most opt.connect_batch at a time: an unbounded burst of SYNs overflows
 * the server's listen backlog and the dropped SYNs are only retransmitted after a second. A failed
 * connect (transient error, refused while the server starts or its backlog is full) is retried after
 * CONNECT_RETRY_DELAY_NS; the whole phase is bounded by opt.connect_timeout_s.
 */
static void connect_all(void) {
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    int *retry = malloc(sizeof(int) * (size_t)opt.conns);
    int retry_top = 0, next = 0, pending = 0, connected = 0, last_error = 0;
    uint64_t deadline = mono_ns() + seconds_to_ns(opt.connect_timeout_s);
    uint64_t retry_after = 0;
    struct epoll_event events[MAX_EVENTS];

    while (connected < opt.conns) {
        uint64_t now = mono_ns();
        if (now > deadline)
            die("connect timeout: %d of %d connections open after %.0f s (last error: %s)", connected, opt.conns,
                opt.connect_timeout_s, last_error ? strerror(last_error) : "none");
        bool retry_due = now >= retry_after;
        while (pending < opt.connect_batch && ((retry_due && retry_top > 0) || next < opt.conns)) {
            int i = retry_due && retry_top > 0 ? retry[--retry_top] : next++;
            int err = start_connect(&conns[i], &addr);
            if (err == 0) {
                pending++;
                continue;
            }
            last_error = err;
            retry[retry_top++] = i;
            retry_after = now + CONNECT_RETRY_DELAY_NS;
            break;
        }
        int n = epoll_wait(epfd, events, MAX_EVENTS, 1 + (int)(CONNECT_RETRY_DELAY_NS / 1000000u));
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < n; k++) {
            struct conn *c = events[k].data.ptr;
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            pending--;
            if (err == 0) {
                c->state = CONN_OPEN;
                connected++;
                open_conns++;
                epoll_set(c, EPOLL_CTL_MOD, EPOLLIN);
                continue;
            }
            close(c->fd);
            c->fd = -1;
            c->state = CONN_NEW;
            last_error = err;
            retry[retry_top++] = (int)(c - conns);
            retry_after = mono_ns() + CONNECT_RETRY_DELAY_NS;
        }
    }
    free(retry);
}

static void queue_frame(struct conn *c, uint64_t now_ns) {
    if (c->out_off > 0 && c->out_off == c->out_len) c->out_off = c->out_len = 0;
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    char *p = c->out + c->out_len;
    memcpy(p, header, header_len);
    const char *body = pattern + c->next_send_seq % PATTERN_PERIOD;
    if (opt.wire == WIRE_WS) {
        for (size_t i = 0; i < (size_t)opt.size_bytes; i++) p[header_len + i] = (char)(body[i] ^ WS_MASK[i & 3]);
    } else {
        memcpy(p + header_len, body, (size_t)opt.size_bytes);
    }
    c->out_len += frame_len;
    c->sent_at_ns[c->next_send_seq % (uint64_t)opt.inflight] = now_ns;
    c->next_send_seq++;
}

static void flush(struct conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = io_send(c, c->out + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_write) epoll_set(c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
            c->want_write = true;
            return;
        }
        fail_conn(c);
        return;
    }
    c->out_off = c->out_len = 0;
    if (c->want_write) epoll_set(c, EPOLL_CTL_MOD, EPOLLIN);
    c->want_write = false;
}

/*
 * Checks replies byte by byte against the frames sent, in order. Returns the number of complete
 * replies (good or bad) in the chunk, or -1 after a protocol error that makes the stream unreadable.
 */
static int parse_replies(struct conn *c, const char *p, size_t n, uint64_t now_ns) {
    int completed = 0;
    size_t i = 0;
    while (i < n) {
        if (c->pstate == PARSE_LENGTH) {
            /* A header other than the one of a reply cannot be resynchronised: give up on the stream. */
            if (p[i++] != reply_header[c->reply_digits++]) return -1;
            if ((size_t)c->reply_digits < reply_header_len) continue;
            c->pstate = PARSE_BODY;
            c->body_off = 0;
            c->body_mismatch = false;
        } else {
            size_t take = (size_t)opt.size_bytes - c->body_off;
            if (take > n - i) take = n - i;
            const char *expected = pattern + c->next_recv_seq % PATTERN_PERIOD + c->body_off;
            if (memcmp(p + i, expected, take) != 0) c->body_mismatch = true;
            i += take;
            c->body_off += take;
        }
        if (c->pstate == PARSE_BODY && c->body_off == (size_t)opt.size_bytes) {
            if (c->next_recv_seq >= c->next_send_seq) return -1; /* a reply to nothing */
            if (c->body_mismatch) {
                st.errors++;
            } else {
                st.replies++;
                if (st.recording) hist_record(now_ns - c->sent_at_ns[c->next_recv_seq % (uint64_t)opt.inflight]);
            }
            c->next_recv_seq++;
            c->pstate = PARSE_LENGTH;
            c->reply_length = 0;
            c->reply_digits = 0;
            completed++;
        }
    }
    return completed;
}

static char read_buf[READ_CHUNK_BYTES];

/* One recv per readiness event (level-triggered), then one batched send of the refills. */
static void on_readable(struct conn *c, bool refill) {
    int completed = 0;
    uint64_t now = 0;
    /* TLS may hold decrypted bytes epoll cannot see: read until it would block (plain TCP: once). */
    for (;;) {
        ssize_t n = io_recv(c, read_buf, sizeof read_buf);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        if (n <= 0) {
            fail_conn(c);
            return;
        }
        now = mono_ns();
        int k = parse_replies(c, read_buf, (size_t)n, now);
        if (k < 0) {
            fail_conn(c);
            return;
        }
        completed += k;
        if (!c->ssl) break;
    }
    if (completed == 0) return;
    if (!refill) return;
    for (int k = 0; k < completed; k++) queue_frame(c, now);
    flush(c);
}

static void dispatch(struct epoll_event *ev, bool refill) {
    struct conn *c = ev->data.ptr;
    if (c->state != CONN_OPEN) return;
    if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c, refill);
    if (c->state == CONN_OPEN && (ev->events & EPOLLOUT)) flush(c);
}

static void send_initial_frames(int frames_per_conn) {
    uint64_t now = mono_ns();
    for (int i = 0; i < opt.conns; i++) {
        for (int k = 0; k < frames_per_conn; k++) queue_frame(&conns[i], now);
        flush(&conns[i]);
    }
}

/* Runs the TLS handshake on every connection (--tls). */
static void tls_handshake_all(void) {
    ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (!ssl_ctx) die("SSL_CTX_new failed");
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    int done = 0;
    for (int i = 0; i < opt.conns; i++) {
        conns[i].ssl = SSL_new(ssl_ctx);
        SSL_set_fd(conns[i].ssl, conns[i].fd);
        SSL_set_connect_state(conns[i].ssl);
    }
    bool *ok = calloc((size_t)(opt.conns > 0 ? opt.conns : 1), sizeof(bool));
    uint64_t deadline = mono_ns() + seconds_to_ns(opt.connect_timeout_s);
    /* One step per connection (sends the ClientHello), then a step only where epoll saw bytes. */
    struct epoll_event events[MAX_EVENTS];
    for (int i = -1; done < opt.conns;) {
        if (mono_ns() > deadline) die("TLS handshake timeout: %d of %d done", done, opt.conns);
        int n = 0;
        if (i < opt.conns - 1) i++;
        else n = epoll_wait(epfd, events, MAX_EVENTS, 5);
        for (int k = -1; k < n; k++) {
            struct conn *c = k < 0 ? (i < opt.conns && n == 0 ? &conns[i] : NULL) : events[k].data.ptr;
            if (c == NULL || ok[c - conns]) continue;
            int r = SSL_do_handshake(c->ssl);
            if (r == 1) {
                ok[c - conns] = true;
                done++;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) die("TLS handshake failed (%d)", e);
        }
    }
    free(ok);
}

/* Sends the upgrade request on every connection and waits for every 101 response (--wire ws). */
static void ws_handshake_all(void) {
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     opt.path, opt.port);
    int *matched = calloc((size_t)opt.conns, sizeof(int)); /* bytes of "\r\n\r\n" seen in a row */
    int done = 0;
    for (int i = 0; i < opt.conns; i++)
        if (io_send(&conns[i], req, (size_t)n) != n) die("upgrade request: %s", strerror(errno));
    uint64_t deadline = mono_ns() + seconds_to_ns(opt.connect_timeout_s);
    struct epoll_event events[MAX_EVENTS];
    char buf[1024];
    while (done < opt.conns) {
        if (mono_ns() > deadline) die("upgrade timeout: %d of %d upgraded", done, opt.conns);
        int k = epoll_wait(epfd, events, MAX_EVENTS, 100);
        for (int e = 0; e < k; e++) {
            struct conn *c = events[e].data.ptr;
            int idx = (int)(c - conns);
            if (matched[idx] == 4) continue;
            /* Read byte by byte up to the end of the response head: nothing follows it before our first frame. */
            for (;;) {
                ssize_t r = io_recv(c, buf, 1);
                if (r <= 0) {
                    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                    die("upgrade refused (connection closed)");
                }
                if (matched[idx] == 0 && buf[0] == 'H') { /* status line: check it is 101 */
                    char line[12];
                    size_t got = 0;
                    while (got < 11) { /* the rest of the status line is in the same segment */
                        ssize_t m = io_recv(c, line + got, 11 - got);
                        if (m <= 0 && !(m < 0 && errno == EAGAIN)) die("upgrade refused (connection closed)");
                        if (m > 0) got += (size_t)m;
                    }
                    if (memcmp(line, "TTP/1.1 101", 11) != 0) die("upgrade refused: not 101");
                    continue;
                }
                matched[idx] = (buf[0] == (matched[idx] % 2 == 0 ? '\r' : '\n')) ? matched[idx] + 1 : (buf[0] == '\r' ? 1 : 0);
                if (matched[idx] == 4) {
                    done++;
                    break;
                }
            }
        }
    }
    free(matched);
}

/* ---------- modes ---------- */

static void print_number_or_null(const char *key, double v, const char *fmt) {
    printf(",\"%s\":", key);
    if (isfinite(v)) printf(fmt, v); else printf("null");
}

static void run_load(void) {
    struct epoll_event events[MAX_EVENTS];
    long ticks_per_s = sysconf(_SC_CLK_TCK);
    send_initial_frames(opt.inflight);

    uint64_t start = mono_ns();
    uint64_t warm_end = start + seconds_to_ns(opt.warmup_s);
    uint64_t measure_end = 0, measure_start = 0, replies_at_start = 0;
    long long server_ticks_start = -1;
    double client_us_start = 0;
    bool measuring = false;

    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, 5);
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < n; k++) dispatch(&events[k], true);
        uint64_t now = mono_ns();
        if (!measuring && now >= warm_end) {
            measuring = st.recording = true;
            measure_start = now;
            measure_end = now + seconds_to_ns(opt.measure_s);
            replies_at_start = st.replies;
            server_ticks_start = opt.server_pid ? proc_cpu_ticks(opt.server_pid) : -1;
            client_us_start = self_cpu_us();
        }
        if (measuring && (now >= measure_end || st.replies - replies_at_start >= opt.max_msgs)) break;
        if (open_conns == 0) break;
    }

    uint64_t end = mono_ns();
    long long server_ticks_end = opt.server_pid ? proc_cpu_ticks(opt.server_pid) : -1;
    double client_us = self_cpu_us() - client_us_start;
    double elapsed_s = measuring ? (double)(end - measure_start) / 1e9 : 0;
    uint64_t msgs = measuring ? st.replies - replies_at_start : 0;
    double server_cpu_us = NAN;
    if (server_ticks_start >= 0 && server_ticks_end >= 0)
        server_cpu_us = (double)(server_ticks_end - server_ticks_start) * 1e6 / (double)ticks_per_s;

    printf("{\"mode\":\"load\",\"port\":%d,\"conns\":%d,\"inflight\":%d,\"size_bytes\":%d", opt.port, opt.conns,
           opt.inflight, opt.size_bytes);
    printf(",\"warmup_s\":%.3f,\"measure_s\":%.3f,\"msgs\":%" PRIu64, opt.warmup_s, elapsed_s, msgs);
    print_number_or_null("msgs_per_s", elapsed_s > 0 ? (double)msgs / elapsed_s : NAN, "%.0f");
    print_number_or_null("lat_p50_us", hist_percentile_us(0.50), "%.1f");
    print_number_or_null("lat_p99_us", hist_percentile_us(0.99), "%.1f");
    print_number_or_null("lat_max_us", st.hist_count ? (double)st.hist_max_ns / 1000.0 : NAN, "%.1f");
    print_number_or_null("server_cpu_us", server_cpu_us, "%.0f");
    print_number_or_null("server_cpu_us_per_msg", msgs ? server_cpu_us / (double)msgs : NAN, "%.4f");
    print_number_or_null("server_cpu_util", elapsed_s > 0 ? server_cpu_us / (elapsed_s * 1e6) : NAN, "%.3f");
    print_number_or_null("client_cpu_us_per_msg", msgs ? client_us / (double)msgs : NAN, "%.4f");
    /* Errors cover the whole run, warm-up included: any wrong reply invalidates the server. */
    printf(",\"errors\":%" PRIu64 ",\"closed_conns\":%" PRIu64 "}\n", st.errors, st.closed_conns);
}

static void run_idle(void) {
    struct epoll_event events[MAX_EVENTS];
    uint64_t start = mono_ns();
    send_initial_frames(1);
    uint64_t deadline = start + seconds_to_ns(opt.connect_timeout_s);
    while (st.replies + st.errors < (uint64_t)opt.conns && open_conns > 0) {
        if (mono_ns() > deadline) die("idle: only %" PRIu64 " of %d echoes before the deadline", st.replies, opt.conns);
        int n = epoll_wait(epfd, events, MAX_EVENTS, 100);
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < n; k++) dispatch(&events[k], false);
    }
    printf("{\"mode\":\"idle\",\"ready\":true,\"port\":%d,\"conns\":%d,\"open_conns\":%d,\"errors\":%" PRIu64 "}\n",
           opt.port, opt.conns, open_conns, st.errors);
    fflush(stdout);

    /* Hold until the runner closes our stdin (or the bound passes); exit closes every socket. */
    struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
    uint64_t hold_end = mono_ns() + seconds_to_ns(opt.hold_s);
    char sink[256];
    for (;;) {
        uint64_t now = mono_ns();
        if (now >= hold_end) break;
        int r = poll(&pfd, 1, (int)((hold_end - now) / 1000000u) + 1);
        if (r > 0 && read(STDIN_FILENO, sink, sizeof sink) <= 0) break;
    }
}

/* ---------- setup ---------- */

static void usage(void) {
    fprintf(stderr,
            "usage: loadgen --port N [--conns N] [--inflight P] [--size B] [--warmup-s S] [--measure-s S]\n"
            "               [--max-msgs N] [--pid SERVER_PID] [--connect-timeout-s S] [--connect-batch N]\n"
            "               [--wire decimal|binary|ws] [--path /ws] [--tls]\n"
            "       loadgen --idle --port N --conns N [--hold-s S]\n");
    exit(2);
}

static void parse_options(int argc, char **argv) {
    opt = (struct options){
        .conns = 100, .inflight = 1, .size_bytes = 64, .warmup_s = 1, .measure_s = 3,
        .max_msgs = 1000000000ull, .hold_s = 120, .connect_timeout_s = 60, .connect_batch = 128,
        .wire = WIRE_DECIMAL, .path = "/ws",
    };
    static const struct option longopts[] = {
        { "port", required_argument, 0, 'p' },      { "conns", required_argument, 0, 'c' },
        { "inflight", required_argument, 0, 'i' },  { "size", required_argument, 0, 's' },
        { "warmup-s", required_argument, 0, 'w' },  { "measure-s", required_argument, 0, 'm' },
        { "max-msgs", required_argument, 0, 'x' },  { "pid", required_argument, 0, 'P' },
        { "idle", no_argument, 0, 'I' },            { "hold-s", required_argument, 0, 'h' },
        { "connect-timeout-s", required_argument, 0, 't' }, { "connect-batch", required_argument, 0, 'b' },
        { "wire", required_argument, 0, 'W' },      { "path", required_argument, 0, 'A' },
        { "tls", no_argument, 0, 'T' },
        { 0, 0, 0, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p': opt.port = atoi(optarg); break;
        case 'c': opt.conns = atoi(optarg); break;
        case 'i': opt.inflight = atoi(optarg); break;
        case 's': opt.size_bytes = atoi(optarg); break;
        case 'w': opt.warmup_s = atof(optarg); break;
        case 'm': opt.measure_s = atof(optarg); break;
        case 'x': opt.max_msgs = strtoull(optarg, NULL, 10); break;
        case 'P': opt.server_pid = (pid_t)atoi(optarg); break;
        case 'I': opt.idle = true; break;
        case 'h': opt.hold_s = atof(optarg); break;
        case 't': opt.connect_timeout_s = atof(optarg); break;
        case 'b': opt.connect_batch = atoi(optarg); break;
        case 'W':
            if (strcmp(optarg, "decimal") == 0) opt.wire = WIRE_DECIMAL;
            else if (strcmp(optarg, "binary") == 0) opt.wire = WIRE_BINARY;
            else if (strcmp(optarg, "ws") == 0) opt.wire = WIRE_WS;
            else usage();
            break;
        case 'A': opt.path = optarg; break;
        case 'T': opt.tls = true; break;
        default: usage();
        }
    }
    if (opt.port <= 0 || opt.port > 65535 || opt.conns <= 0 || opt.inflight <= 0 || opt.size_bytes < 0 ||
        opt.warmup_s < 0 || opt.measure_s <= 0 || opt.max_msgs == 0 || opt.connect_batch <= 0)
        usage();
    if (opt.idle) opt.inflight = 1;
}

int main(int argc, char **argv) {
    parse_options(argc, argv);
    raise_nofile_limit();

    if (opt.size_bytes > 65535) die("--size above 65535 is not supported");
    unsigned len = (unsigned)opt.size_bytes;
    if (opt.wire == WIRE_DECIMAL) {
        header_len = (size_t)snprintf(header, sizeof header, "%u\n", len);
        memcpy(reply_header, header, header_len);
        reply_header_len = header_len;
    } else if (opt.wire == WIRE_BINARY) {
        unsigned char h[4] = { 0, 0, (unsigned char)(len >> 8), (unsigned char)len };
        memcpy(header, h, 4);
        memcpy(reply_header, h, 4);
        header_len = reply_header_len = 4;
    } else {
        /* Client frame: FIN + binary, MASK bit + length (7 or 16 bits), then the mask key. */
        size_t k = 0;
        header[k++] = (char)0x82;
        if (len < 126) header[k++] = (char)(0x80 | len);
        else { header[k++] = (char)(0x80 | 126); header[k++] = (char)(len >> 8); header[k++] = (char)len; }
        memcpy(header + k, WS_MASK, 4);
        header_len = k + 4;
        k = 0;
        reply_header[k++] = (char)0x82;
        if (len < 126) reply_header[k++] = (char)len;
        else { reply_header[k++] = 126; reply_header[k++] = (char)(len >> 8); reply_header[k++] = (char)len; }
        reply_header_len = k;
    }
    frame_len = header_len + (size_t)opt.size_bytes;
    pattern = malloc(PATTERN_PERIOD + (size_t)opt.size_bytes);
    for (size_t i = 0; i < PATTERN_PERIOD + (size_t)opt.size_bytes; i++) pattern[i] = (char)('a' + i % PATTERN_PERIOD);

    conns = calloc((size_t)opt.conns, sizeof *conns);
    for (int i = 0; i < opt.conns; i++) {
        conns[i].fd = -1;
        conns[i].sent_at_ns = calloc((size_t)opt.inflight, sizeof(uint64_t));
        /* At most P frames are outstanding, so at most P can be queued unsent. */
        conns[i].out = malloc(frame_len * (size_t)opt.inflight);
        if (!conns[i].sent_at_ns || !conns[i].out) die("out of memory");
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1: %s", strerror(errno));

    connect_all();
    if (opt.tls) tls_handshake_all();
    if (opt.wire == WIRE_WS) ws_handshake_all();
    if (opt.idle) run_idle(); else run_load();
    return 0;
}
