/* The growable byte buffer of codec.h, on the C SDK's heap. */
#include "codec.h"

static bool buf_reserve(buf *b, size_t extra) {
    if (b->oom) return false;
    if (b->len + extra <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *grown = pb_realloc(b->data, cap);
    if (!grown) {
        b->oom = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

void buf_push(buf *b, uint8_t byte) {
    if (buf_reserve(b, 1)) b->data[b->len++] = byte;
}

void buf_append(buf *b, const void *src, size_t n) {
    if (n && buf_reserve(b, n)) {
        memcpy(b->data + b->len, src, n);
        b->len += n;
    }
}

void buf_free(buf *b) {
    pb_free(b->data);
    b->data = 0;
    b->len = b->cap = 0;
    b->oom = false;
}

const char *codec_error_name(codec_error e) {
    switch (e) {
    case CODEC_OK: return "ok";
    case CODEC_SYNTAX: return "syntax error";
    case CODEC_TOO_DEEP: return "nested too deep";
    case CODEC_BAD_UTF8: return "invalid UTF-8";
    case CODEC_UNSUPPORTED: return "no JSON form";
    case CODEC_TRAILING: return "trailing bytes";
    case CODEC_OOM: return "out of memory";
    }
    return "?";
}
