/*
 * yaml_tree.h -- a YAML document as a small tree of our own nodes.
 *
 * mp__yaml_parse() runs libyaml's event parser over a buffer and builds
 * mappings, lists and scalars in an arena, each with its 1-based line and
 * column, so the loaders (load_*.c) never see libyaml. It enforces the
 * limits of a pipeline file:
 *   - input larger than MP_YAML_MAX_BYTES (the caller refuses it first),
 *   - nesting deeper than MP_YAML_MAX_DEPTH,
 *   - more than MP_YAML_MAX_NODES nodes written in the file (every node
 *     takes at least two bytes, so this is a safety net behind the size
 *     limit),
 *   - aliases adding more than MP_YAML_MAX_ALIASED nodes again, counting
 *     every alias as a copy of what it points at (a "billion laughs" stops
 *     there, and the model built from aliases stays small),
 *   - more than one document.
 * An alias is the anchored node itself (shared, never copied), so the tree
 * is a DAG; an anchor is only visible once its node is complete, so there
 * are no cycles. `<<` merge keys (YAML 1.1) are applied: keys written in
 * the mapping win over merged ones, earlier merge sources over later ones.
 *
 * Scalars are typed when they are read: quoted and block scalars are
 * strings; plain `~`, `null`, `Null`, `NULL` and the empty scalar are null;
 * plain `true`/`false` are booleans; plain decimal integers are integers;
 * other plain YAML 1.2 numbers (floats, 0x.., 0o.., .inf) are numbers;
 * anything else is a string. The tags !!str, !!int, !!float, !!bool,
 * !!null, !!map, !!seq and the non-specific "!" are understood; any other
 * tag is a problem.
 *
 * Duplicate keys are not reported here: each mapping keeps its duplicates
 * (the first occurrence wins) so the loader can word the problem for the
 * place it is in ("duplicate module" for modules).
 */
#ifndef MP_CONFIG_YAML_TREE_H
#define MP_CONFIG_YAML_TREE_H

#include "core/arena.h"
#include "core/diag.h"

#include <stdbool.h>
#include <stddef.h>

#define MP_YAML_MAX_BYTES ((size_t)8 * 1024 * 1024)
#define MP_YAML_MAX_DEPTH 64
#define MP_YAML_MAX_NODES ((size_t)5000000)
#define MP_YAML_MAX_ALIASED ((size_t)100000)

typedef enum mp_ytype {
    MP_YT_NULL,
    MP_YT_BOOL,
    MP_YT_INT,    /* plain decimal integer: [-+]?[0-9]+ */
    MP_YT_NUMBER, /* any other plain YAML number */
    MP_YT_STRING,
    MP_YT_LIST,
    MP_YT_MAP,
} mp_ytype;

typedef struct mp_ynode mp_ynode;

typedef struct mp_ypair {
    const mp_ynode *key; /* always a scalar */
    const mp_ynode *value;
} mp_ypair;

/* A key that appeared again in the same mapping. */
typedef struct mp_ydup {
    const mp_ynode *key; /* the second (ignored) occurrence */
    unsigned first_line; /* line of the first occurrence */
} mp_ydup;

struct mp_ynode {
    mp_ytype type;
    bool quoted;  /* scalar written quoted or as a block (| or >) */
    bool visited; /* scratch flag for one walk over the tree */
    unsigned line, col;
    const char *tag; /* as resolved by libyaml, NULL when none */

    /* Scalars: text (NUL-terminated, len bytes). Lists: n items.
     * Mappings: n pairs in document order, duplicates removed, merges
     * applied. */
    union {
        const char *str;
        const mp_ynode **items;
        mp_ypair *pairs;
    };
    union {
        size_t len;
        size_t n;
    };
    const mp_ydup *dups; /* mappings: keys written twice */
    unsigned ndups;
    unsigned weight; /* nodes in this subtree, aliases counted as copies */
};

/* Parse buf[0..len) (need not be NUL-terminated) into *root, allocating in
 * `a` and recording problems in `d` at positions in `file` (which must
 * outlive the tree). Returns 0 with *root set (NULL for an empty stream),
 * or -1 after recording the problem that made the document unusable
 * (syntax error, a limit). Problems that leave the tree usable (an
 * unsupported tag, a key that is not a scalar) are recorded and parsing
 * goes on; the caller compares the problem count. */
int mp__yaml_parse(mp_arena *a, mp_diags *d, const char *file, const char *buf, size_t len,
                   const mp_ynode **root);

/* Call fn once for every duplicate key of every mapping reachable from
 * root (shared nodes are visited once). Uses the nodes' `visited` flag. */
typedef void (*mp_ydup_fn)(void *data, const mp_ynode *map, const mp_ydup *dup);
void mp__yaml_each_dup(const mp_ynode *root, mp_ydup_fn fn, void *data);

/* The value under `key` in mapping n, or NULL (also when n is not a
 * mapping). */
const mp_ynode *mp__ynode_get(const mp_ynode *n, const char *key);

/* "a mapping", "a list", "a string", "a number", "a boolean" or "null". */
const char *mp__ytype_name(mp_ytype t);

/* Type of a plain scalar's text s[0..n) (yaml_scalar.c). */
mp_ytype mp__yaml_plain_type(const char *s, size_t n);

/* Is n a scalar (null included)? */
bool mp__ynode_is_scalar(const mp_ynode *n);

#endif
