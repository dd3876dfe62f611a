/*
 * c-echo: the floor. A single-threaded epoll echo server for "<len>\n<body>" frames on 127.0.0.1.
 *
 * It parses frames properly (a header or body may be split across reads) and echoes only complete
 * frames. Since an echoed frame is byte-for-byte the received frame, the complete frames of one read
 * are contiguous and go back in a single send, with no copy; the trailing partial frame is carried
 * into the next read. Prints "listening <port>" on stdout once it accepts connections.
 *
 * usage: c-echo --port N   (0 picks an ephemeral port)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* Same read size as libuv, so the floor and Node see the same chunking. */
#define READ_CHUNK_BYTES 65536
#define MAX_EVENTS 1024
#define MAX_LENGTH_DIGITS 10
#define MAX_FRAME_BYTES (16u * 1024u * 1024u)

enum parse_state { PARSE_LENGTH, PARSE_BODY };

struct buffer {
    char *data;
    size_t len, cap;
};

struct conn {
    int fd;
    enum parse_state pstate;
    size_t length;    /* declared body length being read */
    int digits;
    size_t body_left;
    struct buffer carry; /* bytes of the incomplete frame at the end of the last read */
    struct buffer out;   /* replies the kernel did not take yet */
    size_t out_off;
};

static int epfd;
static int listen_fd;
static char read_buf[READ_CHUNK_BYTES];

static void die(const char *what) {
    fprintf(stderr, "c-echo: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void buffer_append(struct buffer *b, const char *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data) die("realloc");
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void epoll_set(struct conn *c, int op, uint32_t events) {
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(epfd, op, c->fd, &ev) != 0) die("epoll_ctl");
}

static void close_conn(struct conn *c) {
    close(c->fd);
    free(c->carry.data);
    free(c->out.data);
    free(c);
}

/*
 * Advances the frame parser over n new bytes. Returns the offset just past the last frame completed
 * within them (0 if none completed: every completion consumes at least one byte), or -1 on a
 * malformed header.
 */
static ssize_t scan_frames(struct conn *c, const char *p, size_t n) {
    size_t i = 0, end = 0;
    while (i < n) {
        if (c->pstate == PARSE_LENGTH) {
            char ch = p[i++];
            if (ch >= '0' && ch <= '9') {
                if (++c->digits > MAX_LENGTH_DIGITS) return -1;
                c->length = c->length * 10 + (size_t)(ch - '0');
                if (c->length > MAX_FRAME_BYTES) return -1;
                continue;
            }
            if (ch != '\n' || c->digits == 0) return -1;
            c->body_left = c->length;
            c->length = 0;
            c->digits = 0;
            if (c->body_left == 0) {
                end = i;
                continue;
            }
            c->pstate = PARSE_BODY;
        } else {
            size_t take = n - i < c->body_left ? n - i : c->body_left;
            i += take;
            c->body_left -= take;
            if (c->body_left == 0) {
                c->pstate = PARSE_LENGTH;
                end = i;
            }
        }
    }
    return (ssize_t)end;
}

/* Sends what it can; the rest waits in c->out and reading pauses until it drains (backpressure). */
static bool send_or_queue(struct conn *c, const char *p, size_t n) {
    size_t sent = 0;
    while (sent < n) {
        ssize_t w = send(c->fd, p + sent, n - sent, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            buffer_append(&c->out, p + sent, n - sent);
            epoll_set(c, EPOLL_CTL_MOD, EPOLLOUT);
            return true;
        } else {
            return false;
        }
    }
    return true;
}

/* One read per readiness event, then one send for every frame it completed. */
static void on_readable(struct conn *c) {
    ssize_t n = recv(c->fd, read_buf, sizeof read_buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
        close_conn(c);
        return;
    }
    size_t carried = c->carry.len;
    ssize_t end_in_new = scan_frames(c, read_buf, (size_t)n);
    if (end_in_new < 0) {
        close_conn(c);
        return;
    }
    if (end_in_new == 0) { /* still inside the same frame */
        buffer_append(&c->carry, read_buf, (size_t)n);
        return;
    }
    bool ok;
    if (carried > 0) {
        /* The first complete frame began in the carry: join it with its tail before sending. */
        buffer_append(&c->carry, read_buf, (size_t)end_in_new);
        ok = send_or_queue(c, c->carry.data, c->carry.len);
        c->carry.len = 0;
    } else {
        ok = send_or_queue(c, read_buf, (size_t)end_in_new);
    }
    if (!ok) {
        close_conn(c);
        return;
    }
    buffer_append(&c->carry, read_buf + end_in_new, (size_t)n - (size_t)end_in_new);
}

static void on_writable(struct conn *c) {
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        close_conn(c);
        return;
    }
    c->out.len = c->out_off = 0;
    epoll_set(c, EPOLL_CTL_MOD, EPOLLIN);
}

static void accept_all(void) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) return;
            if (errno == EMFILE || errno == ENFILE) return; /* the client will see its connect time out */
            die("accept4");
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) die("calloc");
        c->fd = fd;
        epoll_set(c, EPOLL_CTL_ADD, EPOLLIN);
    }
}

static int parse_port(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--port") == 0) {
        char *end;
        long port = strtol(argv[2], &end, 10);
        if (*end == '\0' && port >= 0 && port <= 65535) return (int)port;
    }
    fprintf(stderr, "usage: c-echo --port N\n");
    exit(2);
}

int main(int argc, char **argv) {
    int port = parse_port(argc, argv);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) die("socket");
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
    if (listen(listen_fd, SOMAXCONN) != 0) die("listen");
    socklen_t len = sizeof addr;
    getsockname(listen_fd, (struct sockaddr *)&addr, &len);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1");
    /* data.ptr NULL marks the listener; connections carry their struct conn. */
    struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &lev) != 0) die("epoll_ctl");

    printf("listening %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int k = 0; k < n; k++) {
            struct conn *c = events[k].data.ptr;
            if (!c) {
                accept_all();
            } else if (events[k].events & EPOLLOUT) {
                on_writable(c);
            } else {
                on_readable(c);
            }
        }
    }
}
