/* class.c -- see class.h. */
#include "coord/class.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool key_char(int c)
{
    return islower(c) || isdigit(c) || c == '_' || c == '.' || c == '-';
}

static bool value_char(int c)
{
    return c > ' ' && c < 127 && c != ',' && c != '=';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lower-case and check one pair "k=v" of length n (already trimmed). */
static int pair_norm(const char *p, size_t n, char **out, mp_error *err)
{
    char *s = mp__xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)tolower((unsigned char)p[i]);
    s[n] = '\0';
    char *eq = strchr(s, '=');
    bool ok = eq && eq != s && eq[1] != '\0';
    for (char *c = s; ok && c < eq; c++)
        ok = key_char((unsigned char)*c);
    for (char *c = eq ? eq + 1 : s; ok && *c; c++)
        ok = value_char((unsigned char)*c);
    if (!ok) {
        int rc =
            mp__error(err, MP_EINVAL, "", "bad capability pair '%.*s': expected k=v", (int)n, p);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int mp__coord_class_canon(const char *pairs, char **out, mp_error *err)
{
    size_t cap = 8, n = 0;
    char **v = mp__xmalloc(cap * sizeof *v);
    int rc = 0;
    const char *p = pairs ? pairs : "";
    while (*p && rc == 0) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (a == b) {
            rc = mp__error(err, MP_EINVAL, "", "empty capability pair in '%s'", pairs);
            break;
        }
        if (n == cap) v = mp__xrealloc(v, mp__xmul(cap *= 2, sizeof *v));
        rc = pair_norm(a, (size_t)(b - a), &v[n], err);
        if (rc == 0) n++;
        p = *end ? end + 1 : end;
    }
    mp_strbuf sb = MP_STRBUF_INIT;
    if (rc == 0) {
        qsort(v, n, sizeof *v, cmp_str);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && strcmp(v[i], v[i - 1]) == 0) continue;
            if (sb.len) mp__strbuf_addch(&sb, ',');
            mp__strbuf_adds(&sb, v[i]);
        }
        if (sb.len >= MP_COORD_CLASS_MAX)
            rc = mp__error(err, MP_EINVAL, "", "capability class longer than %d bytes",
                           MP_COORD_CLASS_MAX - 1);
    }
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    if (rc == 0) *out = mp__strbuf_detach(&sb);
    mp__strbuf_release(&sb);
    return rc;
}

/* Is the pair [p, p+n) one of caps' pairs? */
static bool has_pair(const char *caps, const char *p, size_t n)
{
    const char *c = caps;
    while (*c) {
        const char *end = strchr(c, ',');
        size_t len = end ? (size_t)(end - c) : strlen(c);
        if (len == n && memcmp(c, p, n) == 0) return true;
        if (!end) break;
        c = end + 1;
    }
    return false;
}

bool mp__coord_class_served(const char *cls, const char *caps)
{
    const char *p = cls;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!has_pair(caps, p, len)) return false;
        if (!end) break;
        p = end + 1;
    }
    return true;
}

int mp__coord_class_size(const char *cls)
{
    if (!*cls) return 0;
    int n = 1;
    for (const char *p = cls; *p; p++)
        n += *p == ',';
    return n;
}
