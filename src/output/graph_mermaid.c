/*
 * graph_mermaid.c -- the module graph as a Mermaid flowchart (see
 * graph_format.h):
 *
 *   flowchart TD
 *     m_build["build"]
 *     m_test_os_linux_["test[os=linux]"]
 *     m_build --> m_test_os_linux_
 *     m_lint -.-> m_build
 *
 * Labels are quoted; characters Mermaid would read as markup inside them
 * ('"', '#', '<', '>') are written as entity codes.
 */
#include "output/graph_format.h"

#include "core/arena.h"
#include "core/strmap.h"

#include <stdlib.h>

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A unique id for name, registered in `used`, stored in arena a. */
static const char *make_id(mp_arena *a, mp_strmap *used, const char *name)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__strbuf_adds(&sb, "m_");
    for (const char *c = name; *c; c++)
        mp__strbuf_addch(&sb, id_char(*c) ? *c : '_');
    const char *id = mp__arena_strdup(a, sb.buf);
    for (unsigned k = 2; mp__strmap_get(used, id); k++)
        id = mp__arena_printf(a, "%s_%u", sb.buf, k);
    mp__strbuf_release(&sb);
    mp__strmap_put(used, id, (void *)id);
    return id;
}

static void add_label(mp_strbuf *sb, const char *s)
{
    mp__strbuf_addch(sb, '"');
    for (; *s; s++) {
        switch (*s) {
        case '"':
            mp__strbuf_adds(sb, "#quot;");
            break;
        case '#':
            mp__strbuf_adds(sb, "#35;");
            break;
        case '<':
            mp__strbuf_adds(sb, "#lt;");
            break;
        case '>':
            mp__strbuf_adds(sb, "#gt;");
            break;
        case '\n':
            mp__strbuf_addch(sb, ' ');
            break;
        default:
            mp__strbuf_addch(sb, *s);
        }
    }
    mp__strbuf_addch(sb, '"');
}

void mp__graph_to_mermaid(const mp_pipeline *p, mp_strbuf *sb)
{
    mp_arena *a = mp__arena_new();
    mp_strmap used = MP_STRMAP_INIT;
    size_t nmod = p->modules.n;
    const char **ids = mp__arena_alloc(a, (nmod + 1) * sizeof(*ids));

    mp__strbuf_adds(sb, "flowchart TD\n");
    for (size_t i = 0; i < nmod; i++) {
        ids[i] = make_id(a, &used, p->modules.v[i]->name);
        mp__strbuf_addf(sb, "  %s[", ids[i]);
        add_label(sb, p->modules.v[i]->name);
        mp__strbuf_adds(sb, "]\n");
    }
    size_t n;
    mp_graph_edge *e = mp__graph_edges(p, &n);
    for (size_t i = 0; i < n; i++)
        mp__strbuf_addf(sb, "  %s %s %s\n", ids[e[i].from], e[i].optional ? "-.->" : "-->",
                        ids[e[i].to]);
    free(e);
    mp__strmap_release(&used);
    mp__arena_free(a);
}
