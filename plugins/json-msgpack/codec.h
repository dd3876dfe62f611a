/* json-msgpack: the two converters and the growable byte buffer they write into.
 * Both are pure: bytes in, bytes (or a coded error) out; no host calls. */
#ifndef JSON_MSGPACK_CODEC_H
#define JSON_MSGPACK_CODEC_H

#include <plugbroker.h>

/** Deepest nesting of arrays/objects (maps) accepted either way; deeper input is an error. */
#define CODEC_MAX_DEPTH 64

typedef struct buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool oom; /* an allocation failed: the content is incomplete */
} buf;

void buf_push(buf *b, uint8_t byte);
void buf_append(buf *b, const void *src, size_t n);
void buf_free(buf *b);

/** Result of a conversion: 0 on success, else an error kind; `at` is the input offset. */
typedef enum codec_error {
    CODEC_OK = 0,
    CODEC_SYNTAX,      /* not JSON / not msgpack: unexpected byte or end of input */
    CODEC_TOO_DEEP,    /* nesting beyond CODEC_MAX_DEPTH */
    CODEC_BAD_UTF8,    /* a string is not valid UTF-8 (incl. a lone \uD800-\uDFFF escape) */
    CODEC_UNSUPPORTED, /* msgpack with no JSON form: bin, ext, non-string map keys */
    CODEC_TRAILING,    /* bytes after the one value */
    CODEC_OOM,         /* the plugin ran out of memory */
} codec_error;

typedef struct codec_result {
    codec_error error;
    size_t at;
} codec_result;

/** JSON text (RFC 8259, one value, surrounding whitespace allowed) → MessagePack, as msgpackr's pack(). */
codec_result json_to_msgpack(const uint8_t *in, size_t len, buf *out);

/** One MessagePack value → JSON text. */
codec_result msgpack_to_json(const uint8_t *in, size_t len, buf *out);

/** Shortest text of an error kind, for the log. */
const char *codec_error_name(codec_error e);

/** Writes the JSON text of a finite double (the shortest digits that read back as it, as JS does); "null" otherwise. */
void json_write_double(buf *out, double d);

/** The double nearest m × 10^e (ties to even); `sticky`: nonzero digits were dropped after m. */
double decimal_to_double(uint64_t m, long e, bool sticky);

#endif
