/*
 * pipeline_tree.h -- the JSON shape of a pipeline as a small value tree
 * (internal to pipeline_json.c and pipeline_canon.c).
 *
 * pipeline_json.c builds the tree (one place decides the shape, see its
 * header comment) and turns it into jansson values; pipeline_canon.c writes
 * it as canonical text for the hash. Nodes live in the tree's arena; the
 * strings they point to are the pipeline's (or the arena's, when text had
 * to be converted to UTF-8).
 */
#ifndef MP_CORE_PIPELINE_TREE_H
#define MP_CORE_PIPELINE_TREE_H

#include "core/model.h"

#include <stdint.h>

/* MP_PN_MODULES stands for the "modules" object when writing text: the
 * writer builds and writes one module at a time in a scratch arena, so
 * memory stays small and hot however big the pipeline is. */
typedef enum mp_pnode_type {
    MP_PN_NULL,
    MP_PN_BOOL,
    MP_PN_INT,
    MP_PN_STR,
    MP_PN_ARR,
    MP_PN_OBJ,
    MP_PN_MODULES,
} mp_pnode_type;

typedef struct mp_pnode mp_pnode;
struct mp_pnode { /* 32 bytes: a big pipeline has half a million of these */
    unsigned char type;
    unsigned n, cap; /* MP_PN_ARR, MP_PN_OBJ */
    union {
        int64_t i; /* MP_PN_BOOL, MP_PN_INT */
        const char *s;
        struct {
            mp_pnode **items;
            const char **keys; /* MP_PN_OBJ, parallel to items */
        } c;
    } u;
};

typedef struct mp_ptree {
    mp_arena *a;
    const mp_pipeline *p;
} mp_ptree;

/* Is s valid UTF-8 (as jansson checks it)? */
int mp__utf8_valid(const char *s);

/* The whole pipeline; lazy_modules puts one MP_PN_MODULES node in place
 * of the modules object. Positions ("pos") only with with_positions. */
mp_pnode *mp__ptree_pipeline(mp_ptree *t, int with_positions, int lazy_modules);
/* One module's object. */
mp_pnode *mp__ptree_module(mp_ptree *t, const mp_module *m, int with_positions);

#endif
