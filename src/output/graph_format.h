/*
 * graph_format.h -- the module graph of a validated pipeline as text, for
 * `modpipe graph`: Graphviz DOT and Mermaid. (JSON is the model itself,
 * core/pipeline_json.h.)
 *
 * Both formats show every module after matrix expansion as one node and
 * draw each edge from the module that must finish first to the module that
 * waits for it: `depends_on` edges solid, `after` edges dashed (an `after`
 * that repeats a `depends_on` is drawn once, solid). Nodes come in name
 * order and edges in (from, to) name order, so the output is stable.
 * These functions only append to a buffer; printing is the caller's.
 */
#ifndef MP_OUTPUT_GRAPH_FORMAT_H
#define MP_OUTPUT_GRAPH_FORMAT_H

#include "core/model.h"
#include "core/strbuf.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct mp_graph_edge {
    size_t from, to; /* module indices: from must finish before to starts */
    bool optional;   /* an `after` edge */
} mp_graph_edge;

/* Every edge of validated pipeline p, sorted; *n set to the count. The
 * array is on the heap (free() it); NULL when there is none. */
mp_graph_edge *mp__graph_edges(const mp_pipeline *p, size_t *n);

/* Append `digraph "<name>" { ... }` (one statement per line). */
void mp__graph_to_dot(const mp_pipeline *p, mp_strbuf *sb);

/* Append `flowchart TD` with one node and one edge per line. Node ids are
 * "m_" plus the name with every character outside [A-Za-z0-9_] turned
 * into "_" (names contain [ ] = , . -), made unique with "_2", "_3" ...;
 * the prefix keeps ids clear of Mermaid keywords such as "end". Labels
 * show the real name, quoted and escaped. */
void mp__graph_to_mermaid(const mp_pipeline *p, mp_strbuf *sb);

#endif
