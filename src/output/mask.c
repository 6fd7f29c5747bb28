/*
 * mask.c -- secret masking (see mask.h for the contract).
 *
 * The masker keeps the list of forms (patterns) and an Aho-Corasick
 * automaton compiled from them into a dense table: row s, column c (the
 * byte's class) holds the next state, premultiplied by the row width and
 * shifted left by one, with bit 0 set when the next state ends a form. The
 * scan loop is then one load per byte and a test of bit 0.
 *
 * For every state we know its depth (the longest suffix of the input that
 * is a prefix of some form) and out (the longest form that is a suffix of
 * the input). When the scan reaches a state with out > 0, the bytes
 * [end - out, end) are masked; shorter forms ending there lie inside it.
 * Bytes before end - depth (the frontier) can no longer become part of any
 * occurrence: they are final and are written out, text as is, each maximal
 * run of masked bytes as one "***". Masked runs not yet final are kept as
 * spans in a small queue; the bytes after the frontier are copied into
 * `hold` at the end of each feed, so the next feed can still write them.
 * The frontier never moves back, so a byte written as text is never masked
 * later, and spans are merged whenever they overlap or touch.
 */
#include "output/mask.h"

#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <openssl/evp.h>
#include <string.h>

/* Form bytes of all secrets together (the automaton has one state per form
 * byte at most, about 25 bytes each when not in the dense table). */
#define MASK_MAX_TOTAL ((size_t)4 << 20)
/* One secret (its forms together are up to ~16 times as long). */
#define MASK_MAX_SECRET ((size_t)64 << 10)
/* Dense table cells (4 bytes each): 2 MB for the states nearest the root. */
#define MASK_DENSE_CELLS ((size_t)1 << 19)
#define MASK_OUT_CAP     4096
/* The start filter: one bit per hash of a form's first 4 bytes. */
#define MASK_FILTER_BITS 16

typedef struct pattern {
    unsigned char *s;
    size_t n;
} pattern;

/* States are numbered breadth first. A state's code is what the scan loop
 * carries: (key << 1) | ends-a-pattern, where key is id * ncls for the
 * first ndense states (the offset of its row in tab) and dense_cells +
 * (id - ndense) for the others, which keep only their own edges and their
 * failure link. */
typedef struct automaton {
    unsigned char cls[256]; /* byte -> class; 0 for bytes in no pattern */
    uint32_t ncls, nstates, ndense, dense_cells;
    uint32_t *tab;   /* ndense * ncls codes */
    uint32_t *depth; /* per state */
    uint32_t *out;   /* per state: longest pattern ending here, 0 if none */
    uint32_t *fail;  /* per state */
    /* Edges of sparse state id: e in [edge_start[i], edge_start[i + 1]),
     * i = id - ndense, on class edge_cls[e] to the state edge_code[e]. */
    uint32_t *edge_start;
    uint16_t *edge_cls;
    uint32_t *edge_code;
    uint64_t filter[(1u << MASK_FILTER_BITS) / 64];
} automaton;

struct mp_masker {
    pattern *pats;
    size_t npats, cap;
    size_t total; /* sum of pattern lengths */
    size_t nsecrets;
    size_t longest; /* longest pattern */
    automaton a;
};

/* ------------------------------------------------------------ automaton */

static inline uint32_t filter_hash(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return (v * 2654435761u) >> (32 - MASK_FILTER_BITS);
}

static inline int filter_hit(const uint64_t *filter, const unsigned char *p)
{
    uint32_t h = filter_hash(p);
    return (int)(filter[h >> 6] >> (h & 63)) & 1;
}

static uint32_t state_of(const automaton *a, uint32_t code)
{
    uint32_t key = code >> 1;
    return key < a->dense_cells ? key / a->ncls : key - a->dense_cells + a->ndense;
}

/* The transition from a sparse state (key >= dense_cells) on class c:
 * its own edge, else its failure state's, until a dense state answers.
 * Failure links lead to shallower states, so this ends; over a scan the
 * extra steps are bounded by the bytes scanned (the Aho-Corasick bound). */
static uint32_t sparse_step(const automaton *a, uint32_t key, uint32_t c)
{
    uint32_t s = key - a->dense_cells + a->ndense;
    while (s >= a->ndense) {
        uint32_t i = s - a->ndense;
        for (uint32_t e = a->edge_start[i]; e < a->edge_start[i + 1]; e++)
            if (a->edge_cls[e] == c) return a->edge_code[e];
        s = a->fail[s];
    }
    return a->tab[(size_t)s * a->ncls + c];
}

static void automaton_free(automaton *a)
{
    free(a->tab);
    free(a->depth);
    free(a->out);
    free(a->fail);
    free(a->edge_start);
    free(a->edge_cls);
    free(a->edge_code);
}

/* The trie under construction: children as linked lists. */
typedef struct trie {
    uint32_t *first, *next, *depth, *term;
    uint16_t *label;
    uint32_t n;
} trie;

static uint32_t trie_child(const trie *t, uint32_t s, uint32_t c)
{
    for (uint32_t u = t->first[s]; u; u = t->next[u])
        if (t->label[u] == c) return u;
    return 0; /* the root is nobody's child */
}

/* Compile pats (total bytes in all) into a. */
static void automaton_build(automaton *a, const pattern *pats, size_t npats, size_t total)
{
    memset(a, 0, sizeof(*a));
    int used[256] = {0};
    for (size_t i = 0; i < npats; i++)
        for (size_t j = 0; j < pats[i].n; j++)
            used[pats[i].s[j]] = 1;
    uint32_t ncls = 1; /* class 0: bytes in no pattern */
    for (int b = 0; b < 256; b++)
        if (used[b]) a->cls[b] = (unsigned char)ncls++;
    a->ncls = ncls;
    for (size_t i = 0; i < npats; i++) {
        uint32_t h = filter_hash(pats[i].s); /* every form has 4 bytes or more */
        a->filter[h >> 6] |= (uint64_t)1 << (h & 63);
    }

    /* The trie; term[s] is the length of the pattern ending at s. */
    size_t max = total + 1;
    trie t = {.first = mp__xcalloc(max, 4),
              .next = mp__xcalloc(max, 4),
              .depth = mp__xcalloc(max, 4),
              .term = mp__xcalloc(max, 4),
              .label = mp__xcalloc(max, 2),
              .n = 1};
    for (size_t i = 0; i < npats; i++) {
        uint32_t s = 0;
        for (size_t j = 0; j < pats[i].n; j++) {
            uint32_t c = a->cls[pats[i].s[j]];
            uint32_t u = trie_child(&t, s, c);
            if (!u) {
                u = t.n++;
                t.label[u] = (uint16_t)c;
                t.depth[u] = t.depth[s] + 1;
                t.next[u] = t.first[s];
                t.first[s] = u;
            }
            s = u;
        }
        t.term[s] = (uint32_t)pats[i].n;
    }
    uint32_t n = t.n;

    /* Breadth-first order, failure links and out, in trie numbering. */
    uint32_t *order = mp__xmalloc(mp__xmul(n, 4)), *id = mp__xmalloc(mp__xmul(n, 4));
    uint32_t *fail = mp__xcalloc(n, 4), *out = mp__xcalloc(n, 4);
    size_t qh = 0, qt = 0;
    order[qt++] = 0;
    while (qh < qt) {
        uint32_t s = order[qh];
        id[s] = (uint32_t)qh++;
        for (uint32_t u = t.first[s]; u; u = t.next[u]) {
            uint32_t f = 0;
            if (s) {
                f = fail[s];
                while (f && !trie_child(&t, f, t.label[u]))
                    f = fail[f];
                f = trie_child(&t, f, t.label[u]);
            }
            fail[u] = f;
            out[u] = t.term[u] ? t.term[u] : out[f];
            order[qt++] = u;
        }
    }

    /* Renumber breadth first; the first ndense states get full rows. */
    a->nstates = n;
    a->ndense = (uint32_t)(MASK_DENSE_CELLS / ncls);
    if (a->ndense > n) a->ndense = n;
    a->dense_cells = a->ndense * ncls;
    a->depth = mp__xmalloc(mp__xmul(n, 4));
    a->out = mp__xmalloc(mp__xmul(n, 4));
    a->fail = mp__xmalloc(mp__xmul(n, 4));
    uint32_t *code = mp__xmalloc(mp__xmul(n, 4));
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = order[i];
        a->depth[i] = t.depth[s];
        a->out[i] = out[s];
        a->fail[i] = id[fail[s]];
        uint32_t key = i < a->ndense ? i * ncls : a->dense_cells + (i - a->ndense);
        code[i] = key << 1 | (out[s] != 0);
    }
    a->tab = mp__xmalloc(mp__xmul(a->dense_cells, 4));
    for (uint32_t i = 0; i < a->ndense; i++) {
        uint32_t *row = &a->tab[(size_t)i * ncls];
        if (i)
            memcpy(row, &a->tab[(size_t)a->fail[i] * ncls], (size_t)ncls * 4);
        else
            memset(row, 0, (size_t)ncls * 4); /* code of the root: 0 */
        for (uint32_t u = t.first[order[i]]; u; u = t.next[u])
            row[t.label[u]] = code[id[u]];
    }
    uint32_t nsparse = n - a->ndense, nedges = n; /* a trie has n - 1 edges */
    a->edge_start = mp__xmalloc(mp__xmul((size_t)nsparse + 1, 4));
    a->edge_cls = mp__xmalloc(mp__xmul((size_t)nedges + 1, 2));
    a->edge_code = mp__xmalloc(mp__xmul((size_t)nedges + 1, 4));
    uint32_t e = 0;
    for (uint32_t i = a->ndense; i < n; i++) {
        a->edge_start[i - a->ndense] = e;
        for (uint32_t u = t.first[order[i]]; u; u = t.next[u]) {
            a->edge_cls[e] = t.label[u];
            a->edge_code[e++] = code[id[u]];
        }
    }
    a->edge_start[nsparse] = e;

    free(code);
    free(order);
    free(id);
    free(fail);
    free(out);
    free(t.first);
    free(t.next);
    free(t.depth);
    free(t.term);
    free(t.label);
}

/* --------------------------------------------------------------- masker */

/* Replace m's automaton by one compiled from its patterns. */
static void masker_compile(mp_masker *m)
{
    automaton_free(&m->a);
    automaton_build(&m->a, m->pats, m->npats, m->total);
}

mp_masker *mp__masker_new(void)
{
    mp_masker *m = mp__xcalloc(1, sizeof(*m));
    masker_compile(m);
    return m;
}

void mp__masker_free(mp_masker *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->npats; i++) {
        explicit_bzero(m->pats[i].s, m->pats[i].n);
        free(m->pats[i].s);
    }
    free(m->pats);
    automaton_free(&m->a);
    free(m);
}

size_t mp__masker_count(const mp_masker *m)
{
    return m ? m->nsecrets : 0;
}

size_t mp__masker_longest(const mp_masker *m)
{
    return m ? m->longest : 0;
}

/* Append a form unless it is too short or already there. */
static void add_form(mp_masker *m, const void *s, size_t n)
{
    if (n < MP_MASK_MIN_SECRET) return;
    for (size_t i = 0; i < m->npats; i++)
        if (m->pats[i].n == n && !memcmp(m->pats[i].s, s, n)) return;
    if (m->npats == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 16;
        m->pats = mp__xrealloc(m->pats, mp__xmul(m->cap, sizeof(*m->pats)));
    }
    unsigned char *copy = mp__xmalloc(n);
    memcpy(copy, s, n);
    m->pats[m->npats].s = copy;
    m->pats[m->npats].n = n;
    m->npats++;
    m->total += n;
}

/* The base64 forms. With k unknown bytes before the secret, output
 * character i covers bits [6i, 6i + 6) of the input; it is fully determined
 * by the secret when 8k <= 6i and 6i + 6 <= 8(k + n). Those characters are
 * the form for a secret in the middle of a longer text; from the first of
 * them to the end of the padded encoding is the form for a secret at the
 * end (for k = 0, the standard encoding of the value). */
static void add_base64_forms(mp_masker *m, const unsigned char *v, size_t n)
{
    unsigned char *in = mp__xmalloc(n + 2);
    unsigned char *enc = mp__xmalloc(4 * ((n + 2) / 3 + 1) + 1);
    for (size_t k = 0; k < 3; k++) {
        memset(in, 0, k);
        memcpy(in + k, v, n);
        size_t len = (size_t)EVP_EncodeBlock(enc, in, (int)(n + k));
        size_t first = (8 * k + 5) / 6;
        size_t stable_end = 8 * (n + k) / 6;
        add_form(m, enc + first, stable_end - first);
        add_form(m, enc + first, len - first);
    }
    explicit_bzero(in, n + 2);
    explicit_bzero(enc, 4 * ((n + 2) / 3 + 1) + 1);
    free(in);
    free(enc);
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Percent-encoding with the given hex digits; plus_for_space gives the
 * application/x-www-form-urlencoded variant. */
static void add_url_form(mp_masker *m, const unsigned char *v, size_t n, const char *hex,
                         int plus_for_space)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = v[i];
        if (is_unreserved(c)) {
            mp__strbuf_addch(&sb, (char)c);
        } else if (c == ' ' && plus_for_space) {
            mp__strbuf_addch(&sb, '+');
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            mp__strbuf_add(&sb, esc, 3);
        }
    }
    add_form(m, sb.buf, sb.len);
    explicit_bzero(sb.buf, sb.len);
    mp__strbuf_release(&sb);
}

int mp__masker_add(mp_masker *m, const char *name, const char *value, mp_error *err)
{
    const char *label = name ? name : "(unnamed)";
    if (!value) return mp__error(err, MP_EINVAL, NULL, "secret \"%s\" has no value", label);
    size_t n = strlen(value);
    if (n < MP_MASK_MIN_SECRET)
        return mp__error(err, MP_EINVAL, NULL,
                         "secret \"%s\" is shorter than %d characters and cannot be masked safely",
                         label, MP_MASK_MIN_SECRET);
    if (n > MASK_MAX_SECRET)
        return mp__error(err, MP_ETOOBIG, NULL,
                         "secret \"%s\" is %zu bytes long; secrets over %zu bytes cannot be masked",
                         label, n, MASK_MAX_SECRET);

    size_t old_npats = m->npats, old_total = m->total;
    const unsigned char *v = (const unsigned char *)value;
    add_form(m, v, n);
    add_base64_forms(m, v, n);
    add_url_form(m, v, n, "0123456789ABCDEF", 0);
    add_url_form(m, v, n, "0123456789abcdef", 0);
    if (memchr(v, ' ', n)) {
        add_url_form(m, v, n, "0123456789ABCDEF", 1);
        add_url_form(m, v, n, "0123456789abcdef", 1);
    }
    if (m->total > MASK_MAX_TOTAL) {
        for (size_t i = old_npats; i < m->npats; i++) {
            explicit_bzero(m->pats[i].s, m->pats[i].n);
            free(m->pats[i].s);
        }
        m->npats = old_npats;
        m->total = old_total;
        return mp__error(err, MP_ETOOBIG, NULL,
                         "secret \"%s\" cannot be masked: the secrets together are too large",
                         label);
    }
    m->nsecrets++;
    if (m->npats == old_npats) return 0; /* already known */

    masker_compile(m);
    for (size_t i = old_npats; i < m->npats; i++)
        if (m->pats[i].n > m->longest) m->longest = m->pats[i].n;
    return 0;
}

/* --------------------------------------------------------------- stream */

static void out_flush(mp_mask_stream *ms)
{
    if (ms->out_len && !ms->err) {
        int r = ms->write(ms->data, ms->out, ms->out_len);
        if (r < 0) ms->err = r;
    }
    ms->out_len = 0;
}

static void out_add(mp_mask_stream *ms, const void *p, size_t n)
{
    if (ms->err || !n) return;
    if (n > MASK_OUT_CAP - ms->out_len) out_flush(ms);
    if (n >= MASK_OUT_CAP) {
        int r = ms->write(ms->data, p, n);
        if (r < 0) ms->err = r;
        return;
    }
    memcpy(ms->out + ms->out_len, p, n);
    ms->out_len += n;
}

/* Write input bytes [a, b) as text. They are in hold (which holds
 * [chunk_base - hold_len, chunk_base)) and/or in the current chunk. */
static void emit_text(mp_mask_stream *ms, uint64_t a, uint64_t b)
{
    if (a < ms->chunk_base) {
        uint64_t hold_base = ms->chunk_base - ms->hold_len;
        uint64_t e = b < ms->chunk_base ? b : ms->chunk_base;
        out_add(ms, ms->hold + (a - hold_base), (size_t)(e - a));
        a = e;
    }
    if (a < b) out_add(ms, ms->chunk + (a - ms->chunk_base), (size_t)(b - a));
}

/* Write everything before limit: text as is, masked runs as one "***". */
static void release_to(mp_mask_stream *ms, uint64_t limit)
{
    while (ms->done < limit) {
        struct mp_mask_span *sp = ms->span_len ? &ms->spans[ms->span_head] : NULL;
        if (sp && sp->start <= ms->done) {
            uint64_t e = sp->end < limit ? sp->end : limit;
            if (!ms->last_masked) out_add(ms, MP_MASK_REPLACEMENT, sizeof(MP_MASK_REPLACEMENT) - 1);
            ms->last_masked = 1;
            ms->done = e;
            if (e == sp->end) {
                ms->span_head++;
                ms->span_len--;
            } else {
                sp->start = e;
            }
        } else {
            uint64_t e = sp && sp->start < limit ? sp->start : limit;
            emit_text(ms, ms->done, e);
            ms->last_masked = 0;
            ms->done = e;
        }
    }
    if (!ms->span_len) ms->span_head = 0;
}

/* Mark [start, end) masked, merging with the spans it overlaps or touches.
 * A start before done can only lie in a run already written as "***" (text
 * is written only behind the frontier, which no occurrence crosses). */
static void add_span(mp_mask_stream *ms, uint64_t start, uint64_t end)
{
    if (start < ms->done) start = ms->done;
    while (ms->span_len) {
        struct mp_mask_span *back = &ms->spans[ms->span_head + ms->span_len - 1];
        if (back->end < start) break;
        if (back->start < start) start = back->start;
        ms->span_len--;
    }
    if (ms->span_head + ms->span_len == ms->span_cap) {
        if (!ms->span_head) mp__die("mask: span queue overflow");
        memmove(ms->spans, ms->spans + ms->span_head, ms->span_len * sizeof(*ms->spans));
        ms->span_head = 0;
    }
    ms->spans[ms->span_head + ms->span_len].start = start;
    ms->spans[ms->span_head + ms->span_len].end = end;
    ms->span_len++;
}

static void on_match(mp_mask_stream *ms, uint64_t end, uint32_t cur)
{
    const automaton *a = &ms->m->a;
    uint32_t state = state_of(a, cur);
    release_to(ms, end - a->depth[state]);
    add_span(ms, end - a->out[state], end);
}

void mp__mask_stream_init(mp_mask_stream *ms, const mp_masker *m, mp_mask_write_fn write,
                          void *data)
{
    memset(ms, 0, sizeof(*ms));
    ms->m = m;
    ms->write = write;
    ms->data = data;
    size_t longest = m ? m->longest : 0;
    ms->hold_cap = longest;
    ms->hold = longest ? mp__xmalloc(longest) : NULL;
    ms->span_cap = longest + 2;
    ms->spans = mp__xmalloc(mp__xmul(ms->span_cap, sizeof(*ms->spans)));
    ms->out = mp__xmalloc(MASK_OUT_CAP);
}

int mp__mask_stream_feed(mp_mask_stream *ms, const void *buf, size_t n)
{
    if (ms->err || !n) return ms->err;
    const unsigned char *p = buf;
    const mp_masker *m = ms->m;
    if (!m || !m->longest) {
        out_add(ms, p, n);
        out_flush(ms);
        ms->pos += n;
        ms->done = ms->pos;
        ms->chunk_base = ms->pos;
        return ms->err;
    }

    ms->chunk = p;
    ms->chunk_base = ms->pos;
    const automaton *a = &m->a;
    const uint32_t *tab = a->tab;
    const unsigned char *cls = a->cls;
    const uint64_t *filter = a->filter;
    const uint32_t dense_cells = a->dense_cells;
    const size_t filter_end = n > 3 ? n - 3 : 0;
    uint32_t cur = ms->cur;
    size_t i = 0;
    while (i < n) {
        /* At the root nothing is in progress: jump to the next position
         * whose 4 bytes begin some form (the last 3 bytes of the chunk
         * cannot be checked; the automaton takes them). */
        if (!cur) {
            while (i < filter_end && !filter_hit(filter, p + i))
                i++;
        }
        uint32_t key = cur >> 1;
        cur = key < dense_cells ? tab[key + cls[p[i]]] : sparse_step(a, key, cls[p[i]]);
        i++;
        if (cur & 1) on_match(ms, ms->chunk_base + i, cur);
    }
    ms->cur = cur;
    ms->pos += n;

    /* Write what is final, and a masked run starting right at the frontier
     * (it can only grow), so at most longest - 1 text bytes stay behind. */
    uint32_t state = state_of(a, cur);
    release_to(ms, ms->pos - a->depth[state]);
    if (ms->span_len && ms->spans[ms->span_head].start <= ms->done)
        release_to(ms, ms->spans[ms->span_head].end);

    /* Carry [done, pos) over to the next feed. */
    size_t keep = (size_t)(ms->pos - ms->done);
    if (keep > ms->hold_cap) mp__die("mask: holding %zu bytes, more than %zu", keep, ms->hold_cap);
    if (ms->done < ms->chunk_base) {
        size_t from_hold = (size_t)(ms->chunk_base - ms->done);
        memmove(ms->hold, ms->hold + (ms->hold_len - from_hold), from_hold);
        memcpy(ms->hold + from_hold, p, n);
    } else {
        memcpy(ms->hold, p + (ms->done - ms->chunk_base), keep);
    }
    ms->hold_len = keep;
    ms->chunk = NULL;
    ms->chunk_base = ms->pos;
    out_flush(ms);
    return ms->err;
}

int mp__mask_stream_flush(mp_mask_stream *ms)
{
    if (ms->err) return ms->err;
    release_to(ms, ms->pos);
    ms->hold_len = 0;
    ms->span_head = ms->span_len = 0;
    ms->cur = 0;
    ms->last_masked = 0;
    out_flush(ms);
    return ms->err;
}

void mp__mask_stream_release(mp_mask_stream *ms)
{
    if (ms->hold) explicit_bzero(ms->hold, ms->hold_cap);
    free(ms->hold);
    free(ms->spans);
    free(ms->out);
    memset(ms, 0, sizeof(*ms));
}

/* ------------------------------------------------------------- one-shot */

static int strbuf_write(void *data, const void *buf, size_t n)
{
    mp__strbuf_add(data, buf, n);
    return 0;
}

char *mp__mask_string(const mp_masker *m, const char *s)
{
    if (!m || !m->longest) return mp__xstrdup(s);
    mp_strbuf sb = MP_STRBUF_INIT;
    mp_mask_stream ms;
    mp__mask_stream_init(&ms, m, strbuf_write, &sb);
    mp__mask_stream_feed(&ms, s, strlen(s));
    mp__mask_stream_flush(&ms);
    mp__mask_stream_release(&ms);
    return mp__strbuf_detach(&sb);
}
