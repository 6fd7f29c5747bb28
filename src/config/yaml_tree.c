/*
 * yaml_tree.c -- libyaml events -> mp_ynode tree (see yaml_tree.h).
 *
 * The builder keeps a stack of open containers (at most MP_YAML_MAX_DEPTH)
 * and one heap array of finished children shared by all of them: a
 * container's children are the entries above its `base`, and when the
 * container ends they are copied into an exactly sized arena array and
 * popped. So memory is the final tree plus one pointer per pending node.
 *
 * Two budgets: every node written in the file counts against
 * MP_YAML_MAX_NODES, and every alias counts the weight of the node it points
 * at against MP_YAML_MAX_ALIASED, so a document whose aliases would expand
 * past that stops at the alias that crosses the line, after at most that
 * much work (and the model built from it stays small).
 */
#include "config/yaml_tree.h"
#include "core/strmap.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct frame {
    mp_ynode *node;
    size_t base;        /* first child in builder.kids */
    const char *anchor; /* registered when the node is complete */
} frame;

typedef struct builder {
    mp_arena *a;
    mp_diags *d;
    const char *file;
    const char *buf;
    size_t len;
    frame stack[MP_YAML_MAX_DEPTH];
    size_t depth;
    const mp_ynode **kids;
    size_t nkids, capkids;
    mp_strmap anchors; /* anchor name (arena) -> mp_ynode* */
    size_t total;      /* nodes written in the file */
    size_t aliased;    /* nodes added again through aliases */
    const mp_ynode *root;
    unsigned docs;
} builder;

/* ------------------------------------------------------------- problems */

static mp_pos pos_at(const builder *b, unsigned line, unsigned col)
{
    return (mp_pos){.file = b->file, .line = line, .col = col};
}

static mp_pos pos_mark(const builder *b, yaml_mark_t m)
{
    return pos_at(b, (unsigned)m.line + 1, (unsigned)m.column + 1);
}

/* Line and column of a byte offset into the input (for reader errors,
 * which libyaml reports as an offset). Columns count characters. */
static mp_pos pos_offset(const builder *b, size_t off)
{
    unsigned line = 1, col = 1;
    if (off > b->len) off = b->len;
    for (size_t i = 0; i < off; i++) {
        unsigned char c = (unsigned char)b->buf[i];
        if (c == '\n') {
            line++;
            col = 1;
        } else if ((c & 0xC0) != 0x80) {
            col++;
        }
    }
    return pos_at(b, line, col);
}

static void report_libyaml(builder *b, const yaml_parser_t *ps)
{
    const char *problem = ps->problem ? ps->problem : "malformed YAML";
    switch (ps->error) {
    case YAML_MEMORY_ERROR:
        mp__die("out of memory while parsing YAML");
    case YAML_READER_ERROR:
        if (ps->problem_value != -1)
            mp__diag_add(b->d, pos_offset(b, ps->problem_offset), "%s (byte 0x%02X)", problem,
                         (unsigned)ps->problem_value & 0xFFu);
        else
            mp__diag_add(b->d, pos_offset(b, ps->problem_offset), "%s", problem);
        return;
    default:
        if (ps->context)
            mp__diag_add(b->d, pos_mark(b, ps->problem_mark), "%s (%s at line %u)", problem,
                         ps->context, (unsigned)ps->context_mark.line + 1);
        else
            mp__diag_add(b->d, pos_mark(b, ps->problem_mark), "%s", problem);
        return;
    }
}

/* A tag for display: "!!str" for the standard ones. */
static const char *tag_display(const char *tag)
{
    size_t n = strlen(TAG_PREFIX);
    if (strncmp(tag, TAG_PREFIX, n) != 0) return tag;
    static _Thread_local char buf[128];
    snprintf(buf, sizeof(buf), "!!%s", tag + n);
    return buf;
}

/* ------------------------------------------------------------- scalars */

static bool tag_is(const char *tag, const char *name)
{
    size_t n = strlen(TAG_PREFIX);
    return strncmp(tag, TAG_PREFIX, n) == 0 && strcmp(tag + n, name) == 0;
}

static mp_ynode *node_new(builder *b, mp_ytype type, yaml_mark_t m, const yaml_char_t *tag)
{
    mp_ynode *n = mp__arena_alloc(b->a, sizeof(*n));
    n->type = type;
    n->line = (unsigned)m.line + 1;
    n->col = (unsigned)m.column + 1;
    n->tag = tag ? mp__arena_strdup(b->a, (const char *)tag) : NULL;
    n->weight = 1;
    return n;
}

static mp_ynode *scalar_new(builder *b, const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    mp_ynode *n = node_new(b, MP_YT_STRING, ev->start_mark, ev->data.scalar.tag);
    n->str = mp__arena_strndup(b->a, text, len);
    n->len = len;
    if (memchr(text, '\0', len))
        mp__diag_add(b->d, pos_at(b, n->line, n->col), "strings must not contain NUL characters");

    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    const char *tag = n->tag;
    if (!tag) {
        n->quoted = !plain;
        n->type = plain ? mp__yaml_plain_type(text, len) : MP_YT_STRING;
    } else if (strcmp(tag, "!") == 0 || tag_is(tag, "str")) {
        n->quoted = true;
        n->type = MP_YT_STRING;
    } else if (tag_is(tag, "int") || tag_is(tag, "float") || tag_is(tag, "bool") ||
               tag_is(tag, "null") || tag_is(tag, "merge")) {
        n->type = mp__yaml_plain_type(text, len);
    } else {
        mp__diag_add(b->d, pos_at(b, n->line, n->col), "unsupported tag \"%s\"", tag_display(tag));
        n->quoted = !plain;
        n->type = plain ? mp__yaml_plain_type(text, len) : MP_YT_STRING;
    }
    return n;
}

/* ------------------------------------------------------------- building */

/* Count `w` more nodes against the budget; false (problem recorded) when
 * the document grows past it. */
static bool budget(builder *b, size_t w, yaml_mark_t m)
{
    b->total += w;
    if (b->total <= MP_YAML_MAX_NODES) return true;
    mp__diag_add(b->d, pos_mark(b, m), "document has more than %zu nodes", MP_YAML_MAX_NODES);
    return false;
}

/* Count the `w` nodes an alias adds again; false (problem recorded) past
 * MP_YAML_MAX_ALIASED, which is what stops a "billion laughs". */
static bool alias_budget(builder *b, size_t w, yaml_mark_t m)
{
    b->aliased += w;
    if (b->aliased <= MP_YAML_MAX_ALIASED) return true;
    mp__diag_add(b->d, pos_mark(b, m), "aliases expand to more than %zu nodes (alias bomb?)",
                 MP_YAML_MAX_ALIASED);
    return false;
}

static void kid_push(builder *b, const mp_ynode *n)
{
    if (b->nkids == b->capkids) {
        b->capkids = b->capkids ? b->capkids * 2 : 256;
        b->kids = mp__xrealloc(b->kids, mp__xmul(b->capkids, sizeof(*b->kids)));
    }
    b->kids[b->nkids++] = n;
}

static void anchor_register(builder *b, const char *anchor, const mp_ynode *n)
{
    if (anchor) mp__strmap_put(&b->anchors, anchor, (void *)n);
}

/* A finished node goes to its parent, or becomes the document. */
static void node_done(builder *b, const mp_ynode *n, const char *anchor)
{
    anchor_register(b, anchor, n);
    if (b->depth == 0)
        b->root = n;
    else
        kid_push(b, n);
}

static const char *anchor_copy(builder *b, const yaml_char_t *anchor)
{
    return anchor ? mp__arena_strdup(b->a, (const char *)anchor) : NULL;
}

static void check_container_tag(builder *b, const mp_ynode *n, const char *want)
{
    if (n->tag && strcmp(n->tag, "!") != 0 && !tag_is(n->tag, want))
        mp__diag_add(b->d, pos_at(b, n->line, n->col), "unsupported tag \"%s\"",
                     tag_display(n->tag));
}

static bool container_start(builder *b, const yaml_event_t *ev, mp_ytype type)
{
    if (b->depth == MP_YAML_MAX_DEPTH) {
        mp__diag_add(b->d, pos_mark(b, ev->start_mark), "document nests deeper than %d levels",
                     MP_YAML_MAX_DEPTH);
        return false;
    }
    const yaml_char_t *tag, *anchor;
    if (type == MP_YT_LIST) {
        tag = ev->data.sequence_start.tag;
        anchor = ev->data.sequence_start.anchor;
    } else {
        tag = ev->data.mapping_start.tag;
        anchor = ev->data.mapping_start.anchor;
    }
    mp_ynode *n = node_new(b, type, ev->start_mark, tag);
    check_container_tag(b, n, type == MP_YT_LIST ? "seq" : "map");
    if (!budget(b, 1, ev->start_mark)) return false;
    b->stack[b->depth++] = (frame){.node = n, .base = b->nkids, .anchor = anchor_copy(b, anchor)};
    return true;
}

static void sequence_end(builder *b)
{
    frame f = b->stack[--b->depth];
    mp_ynode *n = f.node;
    n->n = b->nkids - f.base;
    n->items = mp__arena_alloc(b->a, mp__xmul(n->n, sizeof(*n->items)));
    for (size_t i = 0; i < n->n; i++) {
        n->items[i] = b->kids[f.base + i];
        n->weight += n->items[i]->weight;
    }
    b->nkids = f.base;
    node_done(b, n, f.anchor);
}

/* Keys already in a mapping being built: a linear scan while small, a
 * hash map once it grows, so huge mappings stay linear. */
typedef struct keyset {
    mp_ypair *pairs;
    size_t n;
    mp_strmap map;
    bool hashed;
} keyset;

static const mp_ynode *keyset_find(const keyset *ks, const char *key)
{
    if (ks->hashed) return mp__strmap_get(&ks->map, key);
    for (size_t i = 0; i < ks->n; i++)
        if (strcmp(ks->pairs[i].key->str, key) == 0) return ks->pairs[i].key;
    return NULL;
}

static void keyset_add(keyset *ks, mp_ypair pr)
{
    ks->pairs[ks->n++] = pr;
    if (!ks->hashed && ks->n > 16) {
        for (size_t i = 0; i < ks->n; i++)
            mp__strmap_put(&ks->map, ks->pairs[i].key->str, (void *)ks->pairs[i].key);
        ks->hashed = true;
    } else if (ks->hashed) {
        mp__strmap_put(&ks->map, pr.key->str, (void *)pr.key);
    }
}

static bool is_merge_key(const mp_ynode *k)
{
    return k->type != MP_YT_LIST && k->type != MP_YT_MAP && !k->quoted && k->len == 2 &&
           memcmp(k->str, "<<", 2) == 0;
}

/* Does a merge value name mappings only? Records a problem otherwise. */
static bool merge_value_ok(builder *b, const mp_ynode *v)
{
    bool ok = v->type == MP_YT_MAP;
    if (v->type == MP_YT_LIST) {
        ok = true;
        for (size_t i = 0; i < v->n; i++)
            ok = ok && v->items[i]->type == MP_YT_MAP;
    }
    if (!ok)
        mp__diag_add(b->d, pos_at(b, v->line, v->col),
                     "merge key \"<<\" needs a mapping or a list of mappings, not %s",
                     mp__ytype_name(v->type));
    return ok;
}

static void merge_from(keyset *ks, const mp_ynode *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (!keyset_find(ks, src->pairs[i].key->str)) keyset_add(ks, src->pairs[i]);
}

static void mapping_end(builder *b)
{
    frame f = b->stack[--b->depth];
    mp_ynode *n = f.node;
    size_t npairs = (b->nkids - f.base) / 2;
    const mp_ynode **kv = npairs ? b->kids + f.base : NULL; /* kids is NULL before any */

    /* Room for every explicit pair and every pair a merge could bring. */
    size_t room = npairs, ndup = 0;
    for (size_t i = 0; i < npairs; i++) {
        n->weight += kv[2 * i]->weight + kv[2 * i + 1]->weight;
        const mp_ynode *v = kv[2 * i + 1];
        if (is_merge_key(kv[2 * i])) {
            if (v->type == MP_YT_MAP)
                room += v->n;
            else if (v->type == MP_YT_LIST)
                for (size_t j = 0; j < v->n; j++)
                    room += v->items[j]->type == MP_YT_MAP ? v->items[j]->n : 0;
        }
    }
    keyset ks = {.pairs = mp__xmalloc(mp__xmul(room ? room : 1, sizeof(mp_ypair)))};
    mp_ydup *dups = mp__xmalloc(mp__xmul(npairs ? npairs : 1, sizeof(mp_ydup)));

    for (size_t i = 0; i < npairs; i++) {
        const mp_ynode *k = kv[2 * i], *v = kv[2 * i + 1];
        if (k->type == MP_YT_LIST || k->type == MP_YT_MAP) {
            mp__diag_add(b->d, pos_at(b, k->line, k->col), "a mapping key must be a string, not %s",
                         mp__ytype_name(k->type));
            continue;
        }
        if (is_merge_key(k)) continue;
        const mp_ynode *first = keyset_find(&ks, k->str);
        if (first)
            dups[ndup++] = (mp_ydup){.key = k, .first_line = first->line};
        else
            keyset_add(&ks, (mp_ypair){.key = k, .value = v});
    }
    for (size_t i = 0; i < npairs; i++) {
        const mp_ynode *k = kv[2 * i], *v = kv[2 * i + 1];
        if (k->type == MP_YT_LIST || k->type == MP_YT_MAP || !is_merge_key(k)) continue;
        if (!merge_value_ok(b, v)) continue;
        if (v->type == MP_YT_MAP)
            merge_from(&ks, v);
        else
            for (size_t j = 0; j < v->n; j++)
                merge_from(&ks, v->items[j]);
    }

    n->n = ks.n;
    n->pairs = mp__arena_alloc(b->a, mp__xmul(ks.n, sizeof(*n->pairs)));
    if (ks.n) memcpy(n->pairs, ks.pairs, ks.n * sizeof(*n->pairs));
    if (ndup) {
        mp_ydup *d = mp__arena_alloc(b->a, mp__xmul(ndup, sizeof(*d)));
        memcpy(d, dups, ndup * sizeof(*d));
        n->dups = d;
        n->ndups = (unsigned)ndup;
    }
    free(ks.pairs);
    free(dups);
    mp__strmap_release(&ks.map);
    b->nkids = f.base;
    node_done(b, n, f.anchor);
}

static bool on_alias(builder *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const mp_ynode *target = mp__strmap_get(&b->anchors, name);
    if (!target) {
        for (size_t i = 0; i < b->depth; i++) {
            if (b->stack[i].anchor && strcmp(b->stack[i].anchor, name) == 0) {
                mp__diag_add(b->d, pos_mark(b, ev->start_mark),
                             "alias \"*%s\" is inside the node it refers to", name);
                return false;
            }
        }
        mp__diag_add(b->d, pos_mark(b, ev->start_mark),
                     "alias \"*%s\" has no anchor \"&%s\" before it", name, name);
        return false;
    }
    if (!alias_budget(b, target->weight, ev->start_mark)) return false;
    node_done(b, target, NULL);
    return true;
}

/* Handle one event; false stops the parse (problem recorded). */
static bool on_event(builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->docs > 1) {
            mp__diag_add(b->d, pos_mark(b, ev->start_mark),
                         "more than one YAML document in the pipeline file");
            return false;
        }
        return true;
    case YAML_SCALAR_EVENT: {
        if (!budget(b, 1, ev->start_mark)) return false;
        mp_ynode *n = scalar_new(b, ev);
        node_done(b, n, anchor_copy(b, ev->data.scalar.anchor));
        return true;
    }
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return container_start(b, ev, MP_YT_LIST);
    case YAML_MAPPING_START_EVENT:
        return container_start(b, ev, MP_YT_MAP);
    case YAML_SEQUENCE_END_EVENT:
        if (b->depth) sequence_end(b);
        return true;
    case YAML_MAPPING_END_EVENT:
        if (b->depth) mapping_end(b);
        return true;
    default:
        return true;
    }
}

int mp__yaml_parse(mp_arena *a, mp_diags *d, const char *file, const char *buf, size_t len,
                   const mp_ynode **root)
{
    builder b = {.a = a, .d = d, .file = file, .buf = buf, .len = len};
    yaml_parser_t ps;
    *root = NULL;
    if (!yaml_parser_initialize(&ps)) mp__die("out of memory while parsing YAML");
    yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
    int rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ps, &ev)) {
            report_libyaml(&b, &ps);
            rc = -1;
            break;
        }
        bool ok = on_event(&b, &ev);
        bool end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (!ok) {
            rc = -1;
            break;
        }
        if (end) break;
    }
    yaml_parser_delete(&ps);
    free(b.kids);
    mp__strmap_release(&b.anchors);
    if (rc == 0) *root = b.root;
    return rc;
}

/* ------------------------------------------------------------- queries */

static void each_dup(mp_ynode *n, mp_ydup_fn fn, void *data)
{
    if (n->visited) return;
    n->visited = true;
    if (n->type == MP_YT_LIST) {
        for (size_t i = 0; i < n->n; i++)
            each_dup((mp_ynode *)n->items[i], fn, data);
    } else if (n->type == MP_YT_MAP) {
        for (size_t i = 0; i < n->ndups; i++)
            fn(data, n, &n->dups[i]);
        for (size_t i = 0; i < n->n; i++)
            each_dup((mp_ynode *)n->pairs[i].value, fn, data);
    }
}

void mp__yaml_each_dup(const mp_ynode *root, mp_ydup_fn fn, void *data)
{
    /* Nodes are only ever created non-const by this file. */
    if (root) each_dup((mp_ynode *)root, fn, data);
}

const mp_ynode *mp__ynode_get(const mp_ynode *n, const char *key)
{
    if (!n || n->type != MP_YT_MAP) return NULL;
    for (size_t i = 0; i < n->n; i++)
        if (strcmp(n->pairs[i].key->str, key) == 0) return n->pairs[i].value;
    return NULL;
}

const char *mp__ytype_name(mp_ytype t)
{
    switch (t) {
    case MP_YT_NULL:
        return "null";
    case MP_YT_BOOL:
        return "a boolean";
    case MP_YT_INT:
    case MP_YT_NUMBER:
        return "a number";
    case MP_YT_STRING:
        return "a string";
    case MP_YT_LIST:
        return "a list";
    case MP_YT_MAP:
        return "a mapping";
    }
    return "a value";
}

bool mp__ynode_is_scalar(const mp_ynode *n)
{
    return n && n->type != MP_YT_LIST && n->type != MP_YT_MAP;
}
