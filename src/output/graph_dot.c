/*
 * graph_dot.c -- the module graph as Graphviz DOT (see graph_format.h):
 *
 *   digraph "example" {
 *     node [shape=box];
 *     "build";
 *     "restore" -> "build";
 *     "lint" -> "build" [style=dashed];
 *   }
 *
 * Every name is a quoted DOT ID, with '"' and '\' escaped.
 */
#include "output/graph_format.h"

#include <stdlib.h>

static void add_id(mp_strbuf *sb, const char *s)
{
    mp__strbuf_addch(sb, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') mp__strbuf_addch(sb, '\\');
        if (*s == '\n') {
            mp__strbuf_adds(sb, "\\n");
            continue;
        }
        mp__strbuf_addch(sb, *s);
    }
    mp__strbuf_addch(sb, '"');
}

void mp__graph_to_dot(const mp_pipeline *p, mp_strbuf *sb)
{
    mp__strbuf_adds(sb, "digraph ");
    add_id(sb, p->name ? p->name : "modpipe");
    mp__strbuf_adds(sb, " {\n  node [shape=box];\n");
    for (size_t i = 0; i < p->modules.n; i++) {
        mp__strbuf_adds(sb, "  ");
        add_id(sb, p->modules.v[i]->name);
        mp__strbuf_adds(sb, ";\n");
    }
    size_t n;
    mp_graph_edge *e = mp__graph_edges(p, &n);
    for (size_t i = 0; i < n; i++) {
        mp__strbuf_adds(sb, "  ");
        add_id(sb, p->modules.v[e[i].from]->name);
        mp__strbuf_adds(sb, " -> ");
        add_id(sb, p->modules.v[e[i].to]->name);
        mp__strbuf_adds(sb, e[i].optional ? " [style=dashed];\n" : ";\n");
    }
    free(e);
    mp__strbuf_adds(sb, "}\n");
}
