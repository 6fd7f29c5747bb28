/*
 * pipeline_canon.c -- the canonical text of a pipeline, for its hash
 * (mp__pipeline_canonical, pipeline_json.h).
 *
 * Writes the value tree of pipeline_tree.h exactly as
 * json_dumps(JSON_COMPACT | JSON_SORT_KEYS) prints the jansson value made
 * from the same tree (a unit test holds it to that), but directly: no
 * jansson values, modules built and written one at a time, output handed
 * to the sink in 64 KiB pieces. Objects of one shape (every module's) are
 * sorted once and the key order reused.
 */
#include "core/pipeline_json.h"
#include "core/pipeline_tree.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct member {
    const char *key;
    size_t idx;
} member;

typedef struct writer {
    char buf[64 * 1024];
    size_t len;
    mp_json_sink sink;
    void *data;
    /* The key order of the last object sorted: objects of one shape (every
     * module's) have the same key pointers, and reuse it. */
    const char **cache_keys;
    unsigned cache_n;
    member *cache;
    unsigned cache_busy; /* objects being written with the cached order */
    const mp_pipeline *p;
} writer;

static void flush(writer *w)
{
    if (w->len) w->sink(w->buf, w->len, w->data);
    w->len = 0;
}

static void put(writer *w, const char *s, size_t n)
{
    while (n) {
        if (w->len == sizeof(w->buf)) flush(w);
        size_t k = sizeof(w->buf) - w->len;
        if (k > n) k = n;
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
}

/* 1 for the bytes put_string escapes. */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
};

/* As jansson's dump_string without JSON_ENSURE_ASCII: escape '"', '\\'
 * and control characters; everything else (valid UTF-8) as is. */
static void put_string(writer *w, const char *s)
{
    put(w, "\"", 1);
    const char *run = s;
    for (const char *c = s; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (!needs_escape[ch]) continue;
        put(w, run, (size_t)(c - run));
        char esc[8];
        switch (ch) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\b':
            put(w, "\\b", 2);
            break;
        case '\f':
            put(w, "\\f", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04X", ch);
            put(w, esc, 6);
        }
        run = c + 1;
    }
    put(w, run, strlen(run));
    put(w, "\"", 1);
}

static int cmp_member(const void *x, const void *y)
{
    const member *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    if (c) return c;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void write_node(writer *w, const mp_pnode *n);

/* Members sorted by key; of equal keys the last one set wins (jansson
 * replaces the value of an existing key). */
static void write_object(writer *w, const mp_pnode *n)
{
    unsigned cnt = n->n;
    const char **keys = n->u.c.keys;
    member *ms;
    int cached =
        cnt > 1 && cnt == w->cache_n && memcmp(keys, w->cache_keys, cnt * sizeof(*keys)) == 0;
    if (cached) {
        ms = w->cache;
        w->cache_busy++;
    } else {
        ms = mp__xmalloc(mp__xmul(cnt ? cnt : 1, sizeof(*ms)));
        int sorted = 1;
        for (unsigned i = 0; i < cnt; i++) {
            ms[i] = (member){.key = keys[i], .idx = i};
            if (i && sorted && strcmp(keys[i - 1], keys[i]) >= 0) sorted = 0;
        }
        if (!sorted) qsort(ms, cnt, sizeof(*ms), cmp_member);
    }
    put(w, "{", 1);
    int first = 1;
    for (unsigned i = 0; i < cnt; i++) {
        if (i + 1 < cnt && strcmp(ms[i].key, ms[i + 1].key) == 0) continue;
        if (!first) put(w, ",", 1);
        first = 0;
        put_string(w, ms[i].key);
        put(w, ":", 1);
        write_node(w, n->u.c.items[ms[i].idx]);
    }
    put(w, "}", 1);
    if (cached) {
        w->cache_busy--;
    } else if (cnt > 8 && !w->cache_busy) {
        /* Keep this order for the next object of the same shape. Children
         * were written first, so the cache now holds this object's. */
        free(w->cache);
        free(w->cache_keys);
        w->cache = ms;
        w->cache_keys = mp__xmalloc(cnt * sizeof(*keys));
        memcpy(w->cache_keys, keys, cnt * sizeof(*keys));
        w->cache_n = cnt;
    } else {
        free(ms);
    }
}

/* The "modules" object: modules are sorted by name (strcmp, the order
 * JSON_SORT_KEYS gives) and their names are unique. */
static void write_modules(writer *w)
{
    const mp_pipeline *p = w->p;
    put(w, "{", 1);
    int first = 1;
    for (size_t i = 0; i < p->modules.n; i++) {
        const mp_module *m = p->modules.v[i];
        if (!mp__utf8_valid(m->name)) continue;
        mp_ptree t = {.a = mp__arena_new(), .p = p};
        if (!first) put(w, ",", 1);
        first = 0;
        put_string(w, m->name);
        put(w, ":", 1);
        write_node(w, mp__ptree_module(&t, m, 0));
        mp__arena_free(t.a);
    }
    put(w, "}", 1);
}

static void write_node(writer *w, const mp_pnode *n)
{
    char num[32];
    switch (n->type) {
    case MP_PN_NULL:
        put(w, "null", 4);
        return;
    case MP_PN_BOOL:
        if (n->u.i)
            put(w, "true", 4);
        else
            put(w, "false", 5);
        return;
    case MP_PN_INT:
        snprintf(num, sizeof(num), "%lld", (long long)n->u.i);
        put(w, num, strlen(num));
        return;
    case MP_PN_STR:
        put_string(w, n->u.s);
        return;
    case MP_PN_ARR:
        put(w, "[", 1);
        for (unsigned i = 0; i < n->n; i++) {
            if (i) put(w, ",", 1);
            write_node(w, n->u.c.items[i]);
        }
        put(w, "]", 1);
        return;
    case MP_PN_OBJ:
        write_object(w, n);
        return;
    case MP_PN_MODULES:
        write_modules(w);
        return;
    }
}

void mp__pipeline_canonical(const mp_pipeline *p, mp_json_sink sink, void *data)
{
    mp_ptree t = {.a = mp__arena_new(), .p = p};
    writer *w = mp__xcalloc(1, sizeof(*w));
    w->sink = sink;
    w->data = data;
    w->p = p;
    write_node(w, mp__ptree_pipeline(&t, 0, 1));
    flush(w);
    free(w->cache);
    free(w->cache_keys);
    free(w);
    mp__arena_free(t.a);
}
