/*
 * One MessagePack value → JSON text. nil/bool → null/true/false; every integer width (uint64 and
 * int64 included) → its exact decimal; float32/float64 → json_write_double, the shortest decimal that
 * reads back as the same double, like JS's Number#toString (NaN and ±Infinity,
 * which JSON cannot write, → null, as JSON.stringify does); str → a JSON string ("\\", "\"" and
 * control characters escaped, other UTF-8 copied after validation); array → array; map → object,
 * whose keys must be str. bin, ext (and so timestamps) and non-string keys have no JSON form and
 * make the whole value an error (CODEC_UNSUPPORTED). Nesting is bounded by CODEC_MAX_DEPTH.
 */
#include "codec.h"

typedef struct reader {
    const uint8_t *p;
    const uint8_t *end;
    buf *out;
    codec_error error;
    const uint8_t *error_at;
} reader;

static void fail(reader *r, codec_error e) {
    if (r->error == CODEC_OK) {
        r->error = e;
        r->error_at = r->p;
    }
}

static bool take(reader *r, size_t n, uint64_t *v) {
    if ((size_t)(r->end - r->p) < n) {
        fail(r, CODEC_SYNTAX);
        return false;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) x = (x << 8) | r->p[i];
    r->p += n;
    *v = x;
    return true;
}

static void write_u64(buf *out, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) buf_push(out, (uint8_t)tmp[--n]);
}

static void write_i64(buf *out, int64_t v) {
    if (v < 0) {
        buf_push(out, '-');
        write_u64(out, (uint64_t)0 - (uint64_t)v);
    } else {
        write_u64(out, (uint64_t)v);
    }
}

/* ---- doubles: exact decimal expansion with a base-10^9 big integer, rounded to 17 digits ---- */

#define LIMBS 96 /* 2^53 × 5^1074 has 767 decimal digits < 96 × 9 */
typedef struct big {
    uint32_t limb[LIMBS]; /* little-endian, base 10^9 */
    int n;
} big;

static void big_mul_small(big *b, uint32_t m) {
    uint64_t carry = 0;
    for (int i = 0; i < b->n; i++) {
        uint64_t x = (uint64_t)b->limb[i] * m + carry;
        b->limb[i] = (uint32_t)(x % 1000000000u);
        carry = x / 1000000000u;
    }
    while (carry && b->n < LIMBS) {
        b->limb[b->n++] = (uint32_t)(carry % 1000000000u);
        carry /= 1000000000u;
    }
}

void json_write_double(buf *out, double d) {
    union { double d; uint64_t u; } bits = { .d = d };
    int exp_field = (int)((bits.u >> 52) & 0x7ff);
    uint64_t frac = bits.u & ((1ull << 52) - 1);
    if (exp_field == 0x7ff) {
        buf_append(out, "null", 4);
        return;
    }
    if (bits.u >> 63) buf_push(out, '-');
    if (exp_field == 0 && frac == 0) {
        buf_push(out, '0');
        return;
    }
    uint64_t mant = exp_field ? frac | (1ull << 52) : frac;
    int e2 = exp_field ? exp_field - 1075 : -1074;
    while (e2 < 0 && !(mant & 1)) {
        mant >>= 1;
        e2++;
    }
    /* value = mant × 2^e2 = B × 10^min(e2, 0) */
    static big b;
    b.n = 0;
    for (uint64_t m = mant; m; m /= 1000000000u) b.limb[b.n++] = (uint32_t)(m % 1000000000u);
    for (int k = e2; k > 0; k -= 16) big_mul_small(&b, 1u << (k < 16 ? k : 16));
    for (int k = -e2; k > 0; k -= 13) {
        uint32_t p = 1;
        for (int i = 0; i < (k < 13 ? k : 13); i++) p *= 5;
        big_mul_small(&b, p);
    }
    static char digits[LIMBS * 9 + 1];
    int nd = 0;
    for (int i = b.n - 1; i >= 0; i--) {
        uint32_t x = b.limb[i];
        char chunk[9];
        for (int j = 8; j >= 0; j--) {
            chunk[j] = (char)('0' + x % 10);
            x /= 10;
        }
        int j = 0;
        if (i == b.n - 1) while (j < 8 && chunk[j] == '0') j++;
        for (; j < 9; j++) digits[nd++] = chunk[j];
    }
    int point = nd + (e2 < 0 ? e2 : 0); /* value = 0.digits × 10^point */
    static char exact[LIMBS * 9 + 1];
    int exact_nd = nd, exact_point = point;
    memcpy(exact, digits, (size_t)nd);
    if (nd > 17) {
        bool up = digits[17] > '5';
        if (digits[17] == '5') {
            bool rest = false;
            for (int i = 18; i < nd; i++) rest |= digits[i] != '0';
            up = rest || ((digits[16] - '0') & 1);
        }
        nd = 17;
        if (up) {
            int i = 16;
            while (i >= 0 && digits[i] == '9') digits[i--] = '0';
            if (i >= 0) {
                digits[i]++;
            } else {
                digits[0] = '1';
                nd = 1;
                point++;
            }
        }
    }
    /* Shortest: the fewest digits (the exact value rounded half-even to them, once) that read back as d. */
    static char best[18];
    int best_nd = nd, best_point = point;
    for (int p = 1; p < nd && p < exact_nd; p++) {
        char cand[18];
        int cpoint = exact_point;
        memcpy(cand, exact, (size_t)p);
        bool up = exact[p] > '5';
        if (exact[p] == '5') {
            bool rest = false;
            for (int i = p + 1; i < exact_nd; i++) rest |= exact[i] != '0';
            up = rest || ((exact[p - 1] - '0') & 1);
        }
        int cn = p;
        if (up) {
            int i = p - 1;
            while (i >= 0 && cand[i] == '9') cand[i--] = '0';
            if (i >= 0) {
                cand[i]++;
            } else {
                cand[0] = '1';
                cn = 1;
                cpoint++;
            }
        }
        uint64_t m = 0;
        for (int i = 0; i < cn; i++) m = m * 10 + (uint64_t)(cand[i] - '0');
        double back = decimal_to_double(m, (long)cpoint - cn, false);
        if (back == (d < 0 ? -d : d)) {
            memcpy(best, cand, (size_t)cn);
            best_nd = cn;
            best_point = cpoint;
            memcpy(digits, best, (size_t)cn);
            break;
        }
    }
    nd = best_nd;
    point = best_point;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    if (point > 0 && point <= 21) {
        if (nd <= point) {
            buf_append(out, digits, (size_t)nd);
            for (int i = nd; i < point; i++) buf_push(out, '0');
        } else {
            buf_append(out, digits, (size_t)point);
            buf_push(out, '.');
            buf_append(out, digits + point, (size_t)(nd - point));
        }
    } else if (point <= 0 && point > -6) {
        buf_append(out, "0.", 2);
        for (int i = point; i < 0; i++) buf_push(out, '0');
        buf_append(out, digits, (size_t)nd);
    } else {
        buf_push(out, (uint8_t)digits[0]);
        if (nd > 1) {
            buf_push(out, '.');
            buf_append(out, digits + 1, (size_t)(nd - 1));
        }
        buf_push(out, 'e');
        int x = point - 1;
        buf_push(out, x < 0 ? '-' : '+');
        write_u64(out, (uint64_t)(x < 0 ? -x : x));
    }
}

/* ---- strings ---- */

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

static void read_string(reader *r, size_t n) {
    if ((size_t)(r->end - r->p) < n) return fail(r, CODEC_SYNTAX);
    const uint8_t *s = r->p, *end = r->p + n;
    static const char HEX[] = "0123456789abcdef";
    buf_push(r->out, '"');
    while (s < end) {
        uint8_t c = *s;
        if (c == '"' || c == '\\') {
            buf_push(r->out, '\\');
            buf_push(r->out, c);
            s++;
        } else if (c < 0x20) {
            const char *short_form = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : 0;
            if (short_form) {
                buf_append(r->out, short_form, 2);
            } else {
                uint8_t u[6] = { '\\', 'u', '0', '0', (uint8_t)HEX[c >> 4], (uint8_t)HEX[c & 15] };
                buf_append(r->out, u, 6);
            }
            s++;
        } else {
            size_t k = utf8_seq(s, end);
            if (!k) {
                r->p = s;
                return fail(r, CODEC_BAD_UTF8);
            }
            buf_append(r->out, s, k);
            s += k;
        }
    }
    buf_push(r->out, '"');
    r->p = end;
}

/* ---- values ---- */

static void read_value(reader *r, int depth, bool as_key);

static void read_array(reader *r, uint64_t n, int depth) {
    if (depth >= CODEC_MAX_DEPTH) return fail(r, CODEC_TOO_DEEP);
    buf_push(r->out, '[');
    for (uint64_t i = 0; i < n && !r->error; i++) {
        if (i) buf_push(r->out, ',');
        read_value(r, depth + 1, false);
    }
    buf_push(r->out, ']');
}

static void read_map(reader *r, uint64_t n, int depth) {
    if (depth >= CODEC_MAX_DEPTH) return fail(r, CODEC_TOO_DEEP);
    buf_push(r->out, '{');
    for (uint64_t i = 0; i < n && !r->error; i++) {
        if (i) buf_push(r->out, ',');
        read_value(r, depth + 1, true);
        if (r->error) return;
        buf_push(r->out, ':');
        read_value(r, depth + 1, false);
    }
    buf_push(r->out, '}');
}

static void read_value(reader *r, int depth, bool as_key) {
    if (r->p >= r->end) return fail(r, CODEC_SYNTAX);
    uint8_t c = *r->p;
    uint64_t v;
    bool is_str = (c >= 0xa0 && c <= 0xbf) || c == 0xd9 || c == 0xda || c == 0xdb;
    if (as_key && !is_str) return fail(r, CODEC_UNSUPPORTED);
    r->p++;
    if (c <= 0x7f) return write_u64(r->out, c);
    if (c >= 0xe0) return write_i64(r->out, (int8_t)c);
    if (c >= 0x80 && c <= 0x8f) return read_map(r, c & 0x0f, depth);
    if (c >= 0x90 && c <= 0x9f) return read_array(r, c & 0x0f, depth);
    if (c >= 0xa0 && c <= 0xbf) return read_string(r, c & 0x1f);
    switch (c) {
    case 0xc0: return buf_append(r->out, "null", 4);
    case 0xc2: return buf_append(r->out, "false", 5);
    case 0xc3: return buf_append(r->out, "true", 4);
    case 0xca:
        if (take(r, 4, &v)) {
            union { uint32_t u; float f; } f = { .u = (uint32_t)v };
            json_write_double(r->out, (double)f.f);
        }
        return;
    case 0xcb:
        if (take(r, 8, &v)) {
            union { uint64_t u; double d; } f = { .u = v };
            json_write_double(r->out, f.d);
        }
        return;
    case 0xcc: if (take(r, 1, &v)) write_u64(r->out, v); return;
    case 0xcd: if (take(r, 2, &v)) write_u64(r->out, v); return;
    case 0xce: if (take(r, 4, &v)) write_u64(r->out, v); return;
    case 0xcf: if (take(r, 8, &v)) write_u64(r->out, v); return;
    case 0xd0: if (take(r, 1, &v)) write_i64(r->out, (int8_t)v); return;
    case 0xd1: if (take(r, 2, &v)) write_i64(r->out, (int16_t)v); return;
    case 0xd2: if (take(r, 4, &v)) write_i64(r->out, (int32_t)v); return;
    case 0xd3: if (take(r, 8, &v)) write_i64(r->out, (int64_t)v); return;
    case 0xd9: if (take(r, 1, &v)) read_string(r, v); return;
    case 0xda: if (take(r, 2, &v)) read_string(r, v); return;
    case 0xdb: if (take(r, 4, &v)) read_string(r, v); return;
    case 0xdc: if (take(r, 2, &v)) read_array(r, v, depth); return;
    case 0xdd: if (take(r, 4, &v)) read_array(r, v, depth); return;
    case 0xde: if (take(r, 2, &v)) read_map(r, v, depth); return;
    case 0xdf: if (take(r, 4, &v)) read_map(r, v, depth); return;
    case 0xc1: r->p--; return fail(r, CODEC_SYNTAX); /* never used */
    default: r->p--; return fail(r, CODEC_UNSUPPORTED); /* bin 8/16/32, ext, fixext */
    }
}

codec_result msgpack_to_json(const uint8_t *in, size_t len, buf *out) {
    reader r = { .p = in, .end = in + len, .out = out, .error = CODEC_OK, .error_at = in };
    read_value(&r, 0, false);
    if (!r.error && r.p != r.end) fail(&r, CODEC_TRAILING);
    if (!r.error && out->oom) fail(&r, CODEC_OOM);
    codec_result res = { r.error, r.error ? (size_t)(r.error_at - in) : 0 };
    return res;
}
