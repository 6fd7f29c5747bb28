/*
 * expr.c -- finding, parsing and substituting `${{ ... }}` (see expr.h).
 *
 * One scanner serves both mp__expr_next() and mp__expr_substitute(): it
 * walks the string left to right; "$${{" is an escape (four bytes, no
 * expression), "${{" opens an expression that ends at the first "}}". The
 * text in between, trimmed of blanks, must be one of the five forms.
 * Nothing here allocates except the substitution result, and every input
 * (any bytes, any length) is handled in one linear pass.
 */
#include "core/expr.h"

#include <string.h>

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int key_valid(const char *k, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_key_char(k[i])) return 0;
    return 1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int starts(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(s, lit, l) == 0;
}

static int equals(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* The module part of modules.M...: non-empty, no blanks or line breaks. */
static int module_valid(const char *m, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)m[i] <= ' ' || m[i] == 0x7f) return 0;
    return 1;
}

/* Last occurrence of lit in s[0..n), or NULL. */
static const char *find_last(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (n < l) return NULL;
    for (size_t i = n - l + 1; i-- > 0;)
        if (memcmp(s + i, lit, l) == 0) return s + i;
    return NULL;
}

/* Parse the body b[0..n) (already trimmed) into e. */
static int parse_body(const char *b, size_t n, mp_expr *e, const char **why)
{
    if (n == 0) {
        *why = "empty expression";
        return -1;
    }
    if (equals(b, n, "run.id")) {
        e->kind = MP_EXPR_RUN_ID;
        return 0;
    }
    if (equals(b, n, "instance.index")) {
        e->kind = MP_EXPR_INSTANCE_INDEX;
        return 0;
    }
    if (starts(b, n, "matrix.")) {
        e->kind = MP_EXPR_MATRIX;
        e->key = b + 7;
        e->key_len = n - 7;
        if (!key_valid(e->key, e->key_len)) {
            *why = "a matrix key has letters, digits, \"_\" and \"-\" only";
            return -1;
        }
        return 0;
    }
    if (starts(b, n, "modules.")) {
        const char *r = b + 8;
        size_t rn = n - 8;
        const char *out = find_last(r, rn, ".outputs.");
        if (out) {
            e->kind = MP_EXPR_OUTPUT;
            e->module = r;
            e->module_len = (size_t)(out - r);
            e->key = out + 9;
            e->key_len = rn - e->module_len - 9;
            if (module_valid(e->module, e->module_len) && key_valid(e->key, e->key_len)) return 0;
        } else if (rn > 7 && memcmp(r + rn - 7, ".status", 7) == 0) {
            e->kind = MP_EXPR_STATUS;
            e->module = r;
            e->module_len = rn - 7;
            if (module_valid(e->module, e->module_len)) return 0;
        }
        e->module = e->key = NULL;
        e->module_len = e->key_len = 0;
        *why = "expected modules.M.outputs.K or modules.M.status";
        return -1;
    }
    *why = "unknown expression (use matrix.K, modules.M.outputs.K, modules.M.status, "
           "instance.index or run.id)";
    return -1;
}

/* Parse the expression that starts ("${{") at s[start]. */
static int parse_at(const char *s, size_t start, mp_expr *e, const char **why)
{
    memset(e, 0, sizeof(*e));
    e->start = start;
    const char *body = s + start + 3;
    const char *close = strstr(body, "}}");
    if (!close) {
        e->end = start + 3 + strlen(body);
        *why = "unterminated expression (missing \"}}\")";
        return -1;
    }
    e->end = (size_t)(close - s) + 2;
    const char *b = body, *z = close;
    while (b < z && is_blank(*b))
        b++;
    while (z > b && is_blank(z[-1]))
        z--;
    return parse_body(b, (size_t)(z - b), e, why);
}

int mp__expr_next(const char *s, size_t *off, mp_expr *out, const char **why)
{
    if (!s) return 0;
    size_t i = *off;
    const char *d;
    while ((d = strchr(s + i, '$')) != NULL) {
        i = (size_t)(d - s);
        if (strncmp(d, "$${{", 4) == 0) {
            i += 4;
            continue;
        }
        if (strncmp(d, "${{", 3) == 0) {
            int rc = parse_at(s, i, out, why);
            *off = out->end;
            return rc < 0 ? -1 : 1;
        }
        i++;
    }
    *off = i + strlen(s + i);
    return 0;
}

char *mp__expr_substitute(mp_arena *a, const char *s, mp_expr_resolve_fn resolve, void *data,
                          int unescape)
{
    if (!s) return NULL;
    if (!strstr(s, "${{")) return mp__arena_strdup(a, s);
    mp_strbuf sb = MP_STRBUF_INIT;
    size_t i = 0, lit = 0; /* s[lit..i) is pending literal text */
    const char *d;
    while ((d = strchr(s + i, '$')) != NULL) {
        i = (size_t)(d - s);
        if (strncmp(d, "$${{", 4) == 0) {
            mp__strbuf_add(&sb, s + lit, i - lit);
            mp__strbuf_adds(&sb, unescape ? "${{" : "$${{");
            i += 4;
            lit = i;
            continue;
        }
        if (strncmp(d, "${{", 3) == 0) {
            mp_expr e;
            const char *why;
            mp__strbuf_add(&sb, s + lit, i - lit);
            size_t mark = sb.len;
            if (parse_at(s, i, &e, &why) < 0 || !resolve || resolve(&e, &sb, data) < 0) {
                sb.len = mark;
                sb.buf[mark] = '\0';
                mp__strbuf_add(&sb, s + e.start, e.end - e.start);
            }
            i = lit = e.end;
            continue;
        }
        i++;
    }
    mp__strbuf_adds(&sb, s + lit);
    char *r = mp__arena_strndup(a, sb.buf, sb.len);
    mp__strbuf_release(&sb);
    return r;
}
