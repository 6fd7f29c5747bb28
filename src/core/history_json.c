/*
 * history_json.c -- the text of history.json (history.h), read and written
 * in one pass without a document tree.
 *
 * Reading: a recursive-descent JSON reader over the whole file in memory
 * that knows the history's shape. Entries of "modules" go straight into
 * the table; values it has no use for (other keys) are checked as JSON and
 * skipped. It rejects what jansson's decoder rejects for this document:
 * bad syntax, invalid UTF-8, a \u0000 escape, integers that do not fit in
 * 64 bits, duplicate keys of the root, of "modules" and of an entry's
 * "ms" / "runs" (keys it skips are not compared), and nesting deeper than
 * MAX_DEPTH. A syntax error is reported as "line N: what"; a document of
 * the wrong shape by what is wrong with it ("schema is not ...",
 * "\"modules\" is not an object", "malformed module entry").
 *
 * Writing: one line per module, `"name": {"ms": N, "runs": M}`, in the
 * table's order, through a 64 KiB buffer; names escaped as JSON strings
 * (quote, backslash and control characters; everything else is UTF-8 and
 * written as it is).
 */
#include "core/history_int.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEPTH 512

/* ---- reading ---- */

typedef struct reader {
    const char *start, *p, *end;
    char *why;
    size_t whylen;
    mp_strbuf tmp; /* a string with escapes, decoded */
} reader;

static int fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, r->whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A syntax error at r->p: "line N: msg". */
static int fail_syntax(reader *r, const char *msg)
{
    int line = 1;
    for (const char *c = r->start; c < r->p; c++)
        if (*c == '\n') line++;
    if (r->p >= r->end) return fail(r, "line %d: %s near end of file", line, msg);
    return fail(r, "line %d: %s", line, msg);
}

static void skip_ws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r'))
        r->p++;
}

/* Skip white space, then expect c. */
static int expect(reader *r, char c, const char *msg)
{
    skip_ws(r);
    if (r->p >= r->end || *r->p != c) return fail_syntax(r, msg);
    r->p++;
    return 0;
}

/* Length of the valid UTF-8 sequence of two to four bytes at p, or 0. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    int n;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (end - p < n || p[1] < lo || p[1] > hi) return 0;
    for (int k = 2; k < n; k++)
        if ((p[k] & 0xc0) != 0x80) return 0;
    return n;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16) return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

static void add_utf8(mp_strbuf *sb, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    mp__strbuf_add(sb, b, n);
}

/* One \u escape at r->p (just after the backslash and 'u'), surrogate
 * pairs joined; appended to r->tmp as UTF-8. */
static int read_u_escape(reader *r)
{
    unsigned cp, lo;
    if (r->end - r->p < 4 || hex4(r->p, &cp) < 0) return fail_syntax(r, "invalid \\u escape");
    r->p += 4;
    if (cp >= 0xdc00 && cp <= 0xdfff) return fail_syntax(r, "invalid Unicode \\u escape");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) < 0 ||
            lo < 0xdc00 || lo > 0xdfff)
            return fail_syntax(r, "invalid Unicode \\u escape");
        r->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp == 0) return fail_syntax(r, "\\u0000 is not allowed");
    add_utf8(&r->tmp, cp);
    return 0;
}

/* The string at r->p (its opening quote). *s points into the text when it
 * has no escapes, else into r->tmp (valid until the next string). */
static int read_string(reader *r, const char **s, size_t *len)
{
    const char *begin = ++r->p;
    const unsigned char *c = (const unsigned char *)begin, *end = (const unsigned char *)r->end;
    while (c < end && *c != '"' && *c != '\\' && *c >= 0x20 && *c < 0x80)
        c++;
    if (c < end && *c == '"') { /* plain ASCII: no copy */
        *s = begin;
        *len = (size_t)((const char *)c - begin);
        r->p = (const char *)c + 1;
        return 0;
    }
    mp__strbuf_reset(&r->tmp);
    mp__strbuf_add(&r->tmp, begin, (size_t)((const char *)c - begin));
    r->p = (const char *)c;
    for (;;) {
        if (r->p >= r->end) return fail_syntax(r, "premature end of input");
        unsigned char ch = (unsigned char)*r->p;
        if (ch == '"') {
            r->p++;
            break;
        }
        if (ch < 0x20) return fail_syntax(r, "control character in string");
        if (ch >= 0x80) {
            int n = utf8_len((const unsigned char *)r->p, end);
            if (!n) return fail_syntax(r, "invalid UTF-8 in string");
            mp__strbuf_add(&r->tmp, r->p, (size_t)n);
            r->p += n;
            continue;
        }
        if (ch != '\\') {
            mp__strbuf_addch(&r->tmp, (char)ch);
            r->p++;
            continue;
        }
        if (r->end - r->p < 2) return fail_syntax(r, "premature end of input");
        char e = r->p[1];
        r->p += 2;
        const char *plain = strchr("\"\\/bfnrt", e);
        if (e && plain) {
            mp__strbuf_addch(&r->tmp, "\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"]);
        } else if (e == 'u') {
            if (read_u_escape(r) < 0) return -1;
        } else {
            r->p -= 2;
            return fail_syntax(r, "invalid escape");
        }
    }
    *s = r->tmp.buf;
    *len = r->tmp.len;
    return 0;
}

/* A JSON number at r->p; *is_int tells whether it is an integer (no
 * fraction, no exponent), whose value is then in *v. */
static int read_number(reader *r, int64_t *v, bool *is_int)
{
    const char *p = r->p, *end = r->end;
    bool neg = false;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9') return fail_syntax(r, "invalid number");
    uint64_t u = 0;
    bool over = false;
    if (*p == '0') {
        p++;
    } else {
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            unsigned d = (unsigned)(*p - '0');
            if (u > (UINT64_MAX - d) / 10) over = true;
            u = u * 10 + d;
        }
    }
    *is_int = true;
    if (p < end && *p == '.') {
        *is_int = false;
        p++;
        if (p >= end || *p < '0' || *p > '9') return fail_syntax(r, "invalid number");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_int = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return fail_syntax(r, "invalid number");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (*is_int) {
        if (over || u > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
            return fail_syntax(r, "too big integer");
        *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    }
    r->p = p;
    return 0;
}

static int skip_value(reader *r, int depth);

/* The members or items of the object or array at r->p, skipped. */
static int skip_container(reader *r, int depth)
{
    char close = *r->p == '{' ? '}' : ']';
    bool obj = close == '}';
    if (depth > MAX_DEPTH) return fail_syntax(r, "maximum parsing depth reached");
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return 0;
    }
    for (;;) {
        if (obj) {
            const char *s;
            size_t n;
            skip_ws(r);
            if (r->p >= r->end || *r->p != '"') return fail_syntax(r, "string or '}' expected");
            if (read_string(r, &s, &n) < 0 || expect(r, ':', "':' expected") < 0) return -1;
        }
        if (skip_value(r, depth + 1) < 0) return -1;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return 0;
        }
        return fail_syntax(r, obj ? "'}' expected" : "']' expected");
    }
}

static int skip_literal(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail_syntax(r, "invalid token");
    r->p += n;
    return 0;
}

static int skip_value(reader *r, int depth)
{
    skip_ws(r);
    if (r->p >= r->end) return fail_syntax(r, "unexpected end of input");
    const char *s;
    size_t n;
    int64_t v;
    bool is_int;
    switch (*r->p) {
    case '{':
    case '[':
        return skip_container(r, depth);
    case '"':
        return read_string(r, &s, &n);
    case 't':
        return skip_literal(r, "true");
    case 'f':
        return skip_literal(r, "false");
    case 'n':
        return skip_literal(r, "null");
    default:
        return read_number(r, &v, &is_int);
    }
}

static bool key_is(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* Before a key or the closing brace of an object whose '{' was read:
 * returns 1 with the key read and its ':' consumed, 0 at the end of the
 * object (brace consumed), -1 on error. *first tracks the comma. */
static int next_key(reader *r, bool *first, const char **s, size_t *n)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 0;
    }
    if (!*first) {
        if (r->p >= r->end || *r->p != ',') return fail_syntax(r, "'}' expected");
        r->p++;
        skip_ws(r);
    }
    *first = false;
    if (r->p >= r->end || *r->p != '"') return fail_syntax(r, "string or '}' expected");
    if (read_string(r, s, n) < 0 || expect(r, ':', "':' expected") < 0) return -1;
    return 1;
}

/* An integer value >= min for an entry's key; 1 when it is, 0 when it is
 * some other valid value. */
static int read_count(reader *r, int64_t min, int64_t *v)
{
    skip_ws(r);
    if (r->p < r->end && (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))) {
        bool is_int;
        if (read_number(r, v, &is_int) < 0) return -1;
        return is_int && *v >= min;
    }
    return skip_value(r, 1) < 0 ? -1 : 0;
}

/* One entry {"ms": N, "runs": M} of module `name`. */
static int read_entry(reader *r, mp_history *h, const char *name, size_t len)
{
    skip_ws(r);
    if (r->p >= r->end || *r->p != '{') {
        if (skip_value(r, 1) < 0) return -1;
        return fail(r, "malformed module entry");
    }
    r->p++;
    bool first = true, have_ms = false, have_runs = false, ok = true;
    int64_t ms = 0, runs = 0;
    const char *k;
    size_t kn;
    int more;
    while ((more = next_key(r, &first, &k, &kn)) > 0) {
        bool is_ms = key_is(k, kn, "ms"), is_runs = !is_ms && key_is(k, kn, "runs");
        if (!is_ms && !is_runs) {
            if (skip_value(r, 2) < 0) return -1;
            continue;
        }
        if ((is_ms && have_ms) || (is_runs && have_runs))
            return fail_syntax(r, is_ms ? "duplicate object key \"ms\""
                                        : "duplicate object key \"runs\"");
        int got = read_count(r, is_ms ? 0 : 1, is_ms ? &ms : &runs);
        if (got < 0) return -1;
        if (!got) ok = false;
        if (is_ms)
            have_ms = true;
        else
            have_runs = true;
    }
    if (more < 0) return -1;
    if (!ok || !have_ms || !have_runs) return fail(r, "malformed module entry");
    mp__hist_add(h, name, len, ms, runs);
    return 0;
}

/* The object of "modules" (r->p at its '{'). */
static int read_modules(reader *r, mp_history *h)
{
    r->p++;
    bool first = true;
    const char *k;
    size_t kn;
    int more;
    while ((more = next_key(r, &first, &k, &kn)) > 0) {
        if (mp__hist_find(h, k, kn)) {
            int shown = kn > 80 ? 80 : (int)kn;
            char msg[128];
            snprintf(msg, sizeof(msg), "duplicate object key \"%.*s\"", shown, k);
            return fail_syntax(r, msg);
        }
        /* k may be in r->tmp, which read_entry reuses: keep a copy. */
        if (k == r->tmp.buf) {
            char *copy = mp__xmalloc(kn + 1);
            memcpy(copy, k, kn + 1);
            int rc = read_entry(r, h, copy, kn);
            free(copy);
            if (rc < 0) return -1;
        } else if (read_entry(r, h, k, kn) < 0) {
            return -1;
        }
    }
    return more;
}

static int read_root(reader *r, mp_history *h)
{
    skip_ws(r);
    if (r->p >= r->end || (*r->p != '{' && *r->p != '[')) return fail_syntax(r, "'[' or '{' expected");
    if (*r->p == '[') {
        if (skip_container(r, 1) < 0) return -1;
        skip_ws(r);
        if (r->p < r->end) return fail_syntax(r, "end of file expected");
        return fail(r, "not a JSON object");
    }
    r->p++;
    bool first = true, have_schema = false, schema_ok = false, have_modules = false;
    bool modules_ok = false;
    const char *k;
    size_t kn;
    int more;
    while ((more = next_key(r, &first, &k, &kn)) > 0) {
        bool is_schema = key_is(k, kn, "schema"), is_modules = key_is(k, kn, "modules");
        if ((is_schema && have_schema) || (is_modules && have_modules))
            return fail_syntax(r, is_schema ? "duplicate object key \"schema\""
                                            : "duplicate object key \"modules\"");
        skip_ws(r);
        if (is_schema) {
            have_schema = true;
            if (r->p < r->end && *r->p == '"') {
                const char *s;
                size_t n;
                if (read_string(r, &s, &n) < 0) return -1;
                schema_ok = key_is(s, n, MP_HISTORY_SCHEMA);
            } else if (skip_value(r, 1) < 0) {
                return -1;
            }
        } else if (is_modules) {
            have_modules = true;
            if (r->p < r->end && *r->p == '{') {
                if (read_modules(r, h) < 0) return -1;
                modules_ok = true;
            } else if (skip_value(r, 1) < 0) {
                return -1;
            }
        } else if (skip_value(r, 1) < 0) {
            return -1;
        }
    }
    if (more < 0) return -1;
    skip_ws(r);
    if (r->p < r->end) return fail_syntax(r, "end of file expected");
    if (!schema_ok) return fail(r, "schema is not \"" MP_HISTORY_SCHEMA "\"");
    if (!modules_ok) return fail(r, "\"modules\" is not an object");
    return 0;
}

const char *mp__hist_parse(mp_history *h, const char *text, size_t len, char *why, size_t whylen)
{
    reader r = {.start = text, .p = text, .end = text + len, .why = why, .whylen = whylen,
                .tmp = MP_STRBUF_INIT};
    int rc = read_root(&r, h);
    mp__strbuf_release(&r.tmp);
    if (rc == 0) return NULL;
    mp__hist_clear(h);
    return why;
}

/* ---- writing ---- */

typedef struct writer {
    int fd, err; /* err: errno of the first failed write, or 0 */
    size_t n;
    char buf[64 * 1024];
} writer;

static void flush(writer *w)
{
    const char *b = w->buf;
    size_t n = w->n;
    w->n = 0;
    while (n && !w->err) {
        ssize_t k = write(w->fd, b, n);
        if (k < 0) {
            if (errno != EINTR) w->err = errno;
            continue;
        }
        b += k;
        n -= (size_t)k;
    }
}

static void put(writer *w, const char *s, size_t n)
{
    while (n) {
        if (w->n == sizeof(w->buf)) flush(w);
        size_t k = sizeof(w->buf) - w->n;
        if (k > n) k = n;
        memcpy(w->buf + w->n, s, k);
        w->n += k;
        s += k;
        n -= k;
    }
}

#define PUT_LIT(w, lit) put((w), (lit), sizeof(lit) - 1)

/* s as a JSON string, quotes included. */
static void put_string(writer *w, const char *s)
{
    put(w, "\"", 1);
    for (;;) {
        size_t span = 0;
        while (s[span] && s[span] != '"' && s[span] != '\\' && (unsigned char)s[span] >= 0x20)
            span++;
        put(w, s, span);
        s += span;
        if (!*s) break;
        unsigned char c = (unsigned char)*s++;
        char esc[8];
        const char *named = c == '"'    ? "\\\""
                            : c == '\\' ? "\\\\"
                            : c == '\b' ? "\\b"
                            : c == '\f' ? "\\f"
                            : c == '\n' ? "\\n"
                            : c == '\r' ? "\\r"
                            : c == '\t' ? "\\t"
                                        : NULL;
        if (named) {
            put(w, named, strlen(named));
        } else {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(w, esc, 6);
        }
    }
    put(w, "\"", 1);
}

static void put_int(writer *w, int64_t v)
{
    char b[24];
    size_t i = sizeof(b);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        b[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) b[--i] = '-';
    put(w, b + i, sizeof(b) - i);
}

int mp__hist_write(const mp_history *h, int fd)
{
    writer *w = mp__xmalloc(sizeof(*w));
    w->fd = fd;
    w->err = 0;
    w->n = 0;
    PUT_LIT(w, "{\n  \"schema\": \"" MP_HISTORY_SCHEMA "\",\n  \"modules\": {");
    for (size_t i = 0; i < h->order.n; i++) {
        const mp_hist_entry *e = h->order.v[i];
        if (i)
            PUT_LIT(w, ",\n    ");
        else
            PUT_LIT(w, "\n    ");
        put_string(w, e->name);
        PUT_LIT(w, ": {\"ms\": ");
        put_int(w, e->ms);
        PUT_LIT(w, ", \"runs\": ");
        put_int(w, e->runs);
        PUT_LIT(w, "}");
    }
    if (h->order.n)
        PUT_LIT(w, "\n  }\n}\n");
    else
        PUT_LIT(w, "}\n}\n");
    flush(w);
    int e = w->err;
    free(w);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}
