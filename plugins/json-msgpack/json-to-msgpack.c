/*
 * JSON text → MessagePack, byte for byte what msgpackr's `pack(JSON.parse(text))` writes:
 * null/true/false → nil/true/false; a number that is an integer in [-2^31, 2^32) → the shortest
 * (neg)fixint/uint8..32/int8..32, any other number → float64; strings → fixstr/str8/16/32 of their
 * UTF-8; arrays → fixarray/array16/32; objects → map16 always (msgpackr's default packer does not
 * use fixmap), map32 beyond 65535 keys (where msgpackr throws), keys in text order. Differences
 * from JSON.parse + pack, documented: a repeated key is written twice (JSON.parse keeps the last),
 * and integer-like keys ("2") keep their text position (a JS object puts them first).
 *
 * Numbers: the decimal is converted to the nearest double (ties to even), the same as JSON.parse:
 * directly when it has at most 19 significant digits below 2^53 and a decimal exponent within ±22,
 * otherwise an estimate is corrected against the exact midpoints between neighbouring doubles with
 * big integers (the first 19 significant digits, the rest as a sticky "more" bit).
 */
#include "codec.h"

typedef struct parser {
    const uint8_t *p;
    const uint8_t *end;
    const uint8_t *start;
    buf *out;
    codec_error error;
    const uint8_t *error_at;
} parser;

static void fail(parser *ps, codec_error e) {
    if (ps->error == CODEC_OK) {
        ps->error = e;
        ps->error_at = ps->p;
    }
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static void put_be(buf *out, uint8_t tag, uint64_t v, int bytes) {
    buf_push(out, tag);
    for (int i = bytes - 1; i >= 0; i--) buf_push(out, (uint8_t)(v >> (8 * i)));
}

/* fix_limit 0: no fix form (msgpackr writes every object as map16). */
static void write_header(buf *out, uint8_t fix, uint32_t fix_limit, uint8_t tag16, uint32_t n) {
    if (n < fix_limit) buf_push(out, (uint8_t)(fix | n));
    else if (n < 0x10000) put_be(out, tag16, n, 2);
    else put_be(out, (uint8_t)(tag16 + 1), n, 4);
}

static void write_number(buf *out, double d) {
    if (d >= -2147483648.0 && d < 4294967296.0 && d == (double)(int64_t)d) {
        int64_t v = (int64_t)d;
        if (v >= 0) {
            if (v < 0x80) buf_push(out, (uint8_t)v);
            else if (v < 0x100) put_be(out, 0xcc, (uint64_t)v, 1);
            else if (v < 0x10000) put_be(out, 0xcd, (uint64_t)v, 2);
            else put_be(out, 0xce, (uint64_t)v, 4);
        } else {
            if (v >= -0x20) buf_push(out, (uint8_t)(0x100 + v));
            else if (v >= -0x80) put_be(out, 0xd0, (uint64_t)v & 0xff, 1);
            else if (v >= -0x8000) put_be(out, 0xd1, (uint64_t)v & 0xffff, 2);
            else put_be(out, 0xd2, (uint64_t)v & 0xffffffff, 4);
        }
        return;
    }
    union { double d; uint64_t u; } bits = { .d = d };
    put_be(out, 0xcb, bits.u, 8);
}

static const double POW10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

static double scale10(double m, long e) {
    if (m == 0) return 0;
    if (e >= -22 && e <= 22) return e >= 0 ? m * POW10[e] : m / POW10[-e];
    /* Outside the exact range: repeated steps (may be off by one ulp; see the header). */
    while (e > 22) {
        m *= 1e22;
        e -= 22;
        if (m > 1.7976931348623157e308) return m; /* already +Infinity */
    }
    while (e < -22) {
        m /= 1e22;
        e += 22;
        if (m == 0) return 0;
    }
    return e >= 0 ? m * POW10[e] : m / POW10[-e];
}

/* ---- exact decimal → double: refine the estimate against the exact midpoints (binary big ints) ---- */

#define BN_LIMBS 96
typedef struct bn {
    uint32_t w[BN_LIMBS]; /* little-endian, base 2^32 */
    int n;
} bn;

static void bn_set(bn *b, uint64_t v) {
    b->n = 0;
    while (v) {
        b->w[b->n++] = (uint32_t)v;
        v >>= 32;
    }
}

static void bn_mul(bn *b, uint32_t m) {
    uint64_t carry = 0;
    for (int i = 0; i < b->n; i++) {
        uint64_t x = (uint64_t)b->w[i] * m + carry;
        b->w[i] = (uint32_t)x;
        carry = x >> 32;
    }
    if (carry && b->n < BN_LIMBS) b->w[b->n++] = (uint32_t)carry;
}

static void bn_pow5(bn *b, int k) {
    for (; k > 0; k -= 13) {
        uint32_t p = 1;
        for (int i = 0; i < (k < 13 ? k : 13); i++) p *= 5;
        bn_mul(b, p);
    }
}

static void bn_shl(bn *b, int bits) {
    if (!b->n || bits <= 0) return;
    int words = bits / 32, r = bits % 32;
    if (b->n + words + 1 > BN_LIMBS) return; /* cannot happen within the clamped exponents */
    b->w[b->n + words] = 0;
    for (int i = b->n - 1; i >= 0; i--) {
        uint32_t x = b->w[i];
        if (r) b->w[i + words + 1] |= x >> (32 - r);
        b->w[i + words] = r ? x << r : x;
    }
    for (int i = 0; i < words; i++) b->w[i] = 0;
    b->n += words + 1;
    while (b->n && !b->w[b->n - 1]) b->n--;
}

static int bn_cmp(const bn *a, const bn *b) {
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

/** Sign of (M × 10^E (+ a little when sticky)) − K × 2^F. */
static int cmp_exact(uint64_t m, long e, bool sticky, uint64_t k, int f) {
    static bn a, b;
    bn_set(&a, m);
    bn_set(&b, k);
    if (e >= 0) {
        bn_pow5(&a, (int)e);
        bn_shl(&a, (int)e);
    } else {
        bn_pow5(&b, (int)-e);
        bn_shl(&b, (int)-e);
    }
    if (f >= 0) bn_shl(&b, f);
    else bn_shl(&a, -f);
    int c = bn_cmp(&a, &b);
    return c == 0 && sticky ? 1 : c;
}

/** The midpoint of the doubles with bit patterns u and u + 1 (positive) as K × 2^F. */
static void midpoint(uint64_t u, uint64_t *k, int *f) {
    uint64_t mu[2];
    int eu[2];
    for (int i = 0; i < 2; i++) {
        uint64_t x = u + (uint64_t)i;
        int ef = (int)(x >> 52);
        mu[i] = (x & ((1ull << 52) - 1)) | (ef ? 1ull << 52 : 0);
        eu[i] = (ef ? ef : 1) - 1075;
    }
    int e = eu[0] < eu[1] ? eu[0] : eu[1];
    *k = (mu[0] << (eu[0] - e)) + (mu[1] << (eu[1] - e));
    *f = e - 1;
}

/** The double nearest M × 10^E (ties to even); `sticky`: nonzero digits were dropped after M. */
double decimal_to_double(uint64_t m, long e, bool sticky) {
    if (m == 0) return 0;
    if (!sticky && m <= (1ull << 53) && e >= -22 && e <= 22) return scale10((double)m, e);
    if (e > 400) return scale10(1, 400); /* +Infinity */
    if (e < -400) return 0;
    union { double d; uint64_t u; } x = { .d = scale10((double)m, e) };
    const uint64_t INF = 0x7ff0000000000000ull;
    for (int iter = 0; iter < 64; iter++) {
        uint64_t k;
        int f;
        if (x.u < INF) {
            midpoint(x.u, &k, &f);
            int c = cmp_exact(m, e, sticky, k, f);
            if (c > 0 || (c == 0 && (x.u & 1))) {
                x.u++;
                continue;
            }
        }
        if (x.u > 0) {
            midpoint(x.u - 1, &k, &f);
            int c = cmp_exact(m, e, sticky, k, f);
            if (c < 0 || (c == 0 && (x.u & 1))) {
                x.u--;
                continue;
            }
        }
        break;
    }
    return x.d;
}

static bool is_digit(const parser *ps) { return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; }

static void parse_number(parser *ps) {
    bool neg = false;
    uint64_t mant = 0;
    int digits = 0;     /* significant digits kept in mant */
    long exp10 = 0;     /* value = mant × 10^exp10 */
    bool inexact = false;
    if (*ps->p == '-') {
        neg = true;
        ps->p++;
    }
    if (!is_digit(ps)) return fail(ps, CODEC_SYNTAX);
    if (*ps->p == '0') {
        ps->p++;
    } else {
        while (is_digit(ps)) {
            unsigned dgt = (unsigned)(*ps->p++ - '0');
            if (digits < 19) {
                if (mant || dgt) {
                    mant = mant * 10 + dgt;
                    digits++;
                }
            } else {
                exp10++;
                if (dgt) inexact = true;
            }
        }
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!is_digit(ps)) return fail(ps, CODEC_SYNTAX);
        while (is_digit(ps)) {
            unsigned dgt = (unsigned)(*ps->p++ - '0');
            if (digits < 19) {
                if (mant || dgt) digits++;
                mant = mant * 10 + dgt;
                exp10--;
            } else if (dgt) {
                inexact = true;
            }
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        bool eneg = false;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) eneg = *ps->p++ == '-';
        if (!is_digit(ps)) return fail(ps, CODEC_SYNTAX);
        long e = 0;
        while (is_digit(ps)) {
            if (e < 100000) e = e * 10 + (*ps->p - '0');
            ps->p++;
        }
        exp10 += eneg ? -e : e;
    }
    double d = decimal_to_double(mant, exp10, inexact);
    write_number(ps->out, neg ? -d : d);
}

static int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static long read_hex4(parser *ps) {
    if (ps->end - ps->p < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(ps->p[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    ps->p += 4;
    return v;
}

static void put_utf8(buf *b, uint32_t cp) {
    if (cp < 0x80) {
        buf_push(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        buf_push(b, (uint8_t)(0xc0 | (cp >> 6)));
        buf_push(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        buf_push(b, (uint8_t)(0xe0 | (cp >> 12)));
        buf_push(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        buf_push(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        buf_push(b, (uint8_t)(0xf0 | (cp >> 18)));
        buf_push(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
        buf_push(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        buf_push(b, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

/** Length of the valid UTF-8 sequence at p (1–4), or 0. */
static size_t utf8_seq(const uint8_t *p, const uint8_t *end) {
    uint8_t c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
    return n;
}

/** Parses the string at ps->p (on the opening quote) and writes it as a msgpack str. */
static void parse_string(parser *ps, buf *scratch) {
    ps->p++;
    scratch->len = 0;
    for (;;) {
        if (ps->p >= ps->end) return fail(ps, CODEC_SYNTAX);
        uint8_t c = *ps->p;
        if (c == '"') {
            ps->p++;
            break;
        }
        if (c < 0x20) return fail(ps, CODEC_SYNTAX);
        if (c == '\\') {
            ps->p++;
            if (ps->p >= ps->end) return fail(ps, CODEC_SYNTAX);
            uint8_t e = *ps->p++;
            switch (e) {
            case '"': buf_push(scratch, '"'); break;
            case '\\': buf_push(scratch, '\\'); break;
            case '/': buf_push(scratch, '/'); break;
            case 'b': buf_push(scratch, '\b'); break;
            case 'f': buf_push(scratch, '\f'); break;
            case 'n': buf_push(scratch, '\n'); break;
            case 'r': buf_push(scratch, '\r'); break;
            case 't': buf_push(scratch, '\t'); break;
            case 'u': {
                long u = read_hex4(ps);
                if (u < 0) return fail(ps, CODEC_SYNTAX);
                if (u >= 0xdc00 && u <= 0xdfff) return fail(ps, CODEC_BAD_UTF8);
                if (u >= 0xd800 && u <= 0xdbff) {
                    if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') return fail(ps, CODEC_BAD_UTF8);
                    ps->p += 2;
                    long lo = read_hex4(ps);
                    if (lo < 0) return fail(ps, CODEC_SYNTAX);
                    if (lo < 0xdc00 || lo > 0xdfff) return fail(ps, CODEC_BAD_UTF8);
                    u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                }
                put_utf8(scratch, (uint32_t)u);
                break;
            }
            default: ps->p--; return fail(ps, CODEC_SYNTAX);
            }
            continue;
        }
        size_t n = utf8_seq(ps->p, ps->end);
        if (!n) return fail(ps, CODEC_BAD_UTF8);
        buf_append(scratch, ps->p, n);
        ps->p += n;
    }
    size_t n = scratch->len;
    if (n < 0x20) buf_push(ps->out, (uint8_t)(0xa0 | n));
    else if (n < 0x100) put_be(ps->out, 0xd9, n, 1);
    else if (n < 0x10000) put_be(ps->out, 0xda, n, 2);
    else put_be(ps->out, 0xdb, n, 4);
    buf_append(ps->out, scratch->data, n);
}

static bool literal(parser *ps, const char *word, size_t n) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return false;
    ps->p += n;
    return true;
}

/* Containers: the element count is known only at the end, so the header is reserved at its
 * widest (5 bytes) and the body moved down once it is known to be shorter. */
static void close_container(buf *out, size_t header_at, uint8_t fix, uint32_t fix_limit, uint8_t tag16, uint32_t count) {
    if (out->oom) return;
    size_t body = header_at + 5;
    size_t body_len = out->len - body;
    buf head = {0};
    write_header(&head, fix, fix_limit, tag16, count);
    if (head.oom) {
        out->oom = true;
        return;
    }
    memcpy(out->data + header_at, head.data, head.len);
    memmove(out->data + header_at + head.len, out->data + body, body_len);
    out->len = header_at + head.len + body_len;
    buf_free(&head);
}

static void reserve_header(buf *out) {
    for (int i = 0; i < 5; i++) buf_push(out, 0);
}

static void parse_value(parser *ps, buf *scratch, int depth);

static void parse_array(parser *ps, buf *scratch, int depth) {
    size_t at = ps->out->len;
    uint32_t count = 0;
    reserve_header(ps->out);
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            parse_value(ps, scratch, depth);
            if (ps->error) return;
            count++;
            skip_ws(ps);
            if (ps->p >= ps->end) return fail(ps, CODEC_SYNTAX);
            if (*ps->p == ',') { ps->p++; continue; }
            if (*ps->p == ']') { ps->p++; break; }
            return fail(ps, CODEC_SYNTAX);
        }
    }
    close_container(ps->out, at, 0x90, 16, 0xdc, count);
}

static void parse_object(parser *ps, buf *scratch, int depth) {
    size_t at = ps->out->len;
    uint32_t count = 0;
    reserve_header(ps->out);
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"') return fail(ps, CODEC_SYNTAX);
            parse_string(ps, scratch);
            if (ps->error) return;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') return fail(ps, CODEC_SYNTAX);
            ps->p++;
            parse_value(ps, scratch, depth);
            if (ps->error) return;
            count++;
            skip_ws(ps);
            if (ps->p >= ps->end) return fail(ps, CODEC_SYNTAX);
            if (*ps->p == ',') { ps->p++; continue; }
            if (*ps->p == '}') { ps->p++; break; }
            return fail(ps, CODEC_SYNTAX);
        }
    }
    close_container(ps->out, at, 0x80, 0, 0xde, count);
}

static void parse_value(parser *ps, buf *scratch, int depth) {
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, CODEC_SYNTAX);
    uint8_t c = *ps->p;
    if (c == '{' || c == '[') {
        if (depth >= CODEC_MAX_DEPTH) return fail(ps, CODEC_TOO_DEEP);
        if (c == '{') parse_object(ps, scratch, depth + 1);
        else parse_array(ps, scratch, depth + 1);
    } else if (c == '"') {
        parse_string(ps, scratch);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        parse_number(ps);
    } else if (literal(ps, "null", 4)) {
        buf_push(ps->out, 0xc0);
    } else if (literal(ps, "true", 4)) {
        buf_push(ps->out, 0xc3);
    } else if (literal(ps, "false", 5)) {
        buf_push(ps->out, 0xc2);
    } else {
        fail(ps, CODEC_SYNTAX);
    }
}

codec_result json_to_msgpack(const uint8_t *in, size_t len, buf *out) {
    parser ps = { .p = in, .end = in + len, .start = in, .out = out, .error = CODEC_OK, .error_at = in };
    buf scratch = {0};
    parse_value(&ps, &scratch, 0);
    if (!ps.error) {
        skip_ws(&ps);
        if (ps.p != ps.end) fail(&ps, CODEC_TRAILING);
    }
    if (!ps.error && (out->oom || scratch.oom)) fail(&ps, CODEC_OOM);
    buf_free(&scratch);
    codec_result r = { ps.error, ps.error ? (size_t)(ps.error_at - in) : 0 };
    return r;
}
