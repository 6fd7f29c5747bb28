/*
 * load_util.c -- converters from YAML values to model values (see load.h).
 *
 * Every converter either fills its output and returns true, or records
 * exactly one problem (wrong type, out of range, bad text) and returns
 * false without touching the output. Wording follows docs/messages.md:
 * `<what> must be <expected>, not <got>`.
 */
#include "config/load.h"
#include "core/duration.h"
#include "core/strbuf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ places */

mp_pos mp__load_pos(const mp_loader *l, const mp_ynode *n)
{
    return (mp_pos){.file = l->file, .line = n ? n->line : 0, .col = n ? n->col : 0};
}

mp_pos mp__load_vpos(const mp_loader *l, const mp_ynode *key, const mp_ynode *val)
{
    if (!val || (val->type == MP_YT_NULL && val->len == 0 && !val->quoted))
        return mp__load_pos(l, key);
    return mp__load_pos(l, val);
}

/* ------------------------------------------------------------ messages */

void mp__load_problem(const mp_loader *l, mp_pos pos, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    mp__diag_add(&l->p->diags, pos, "%s", buf);
}

const char *mp__load_quote(const mp_loader *l, const char *s)
{
    enum { MAX = 60 };
    mp_strbuf sb = MP_STRBUF_INIT;
    size_t i = 0;
    for (; s[i] && sb.len < MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            mp__strbuf_addch(&sb, '\\');
            mp__strbuf_addch(&sb, (char)c);
        } else if (c == '\n') {
            mp__strbuf_adds(&sb, "\\n");
        } else if (c == '\t') {
            mp__strbuf_adds(&sb, "\\t");
        } else if (c < 0x20 || c == 0x7F) {
            mp__strbuf_addf(&sb, "\\x%02X", c);
        } else {
            mp__strbuf_addch(&sb, (char)c);
        }
    }
    if (s[i]) {
        /* Do not end inside a UTF-8 sequence. */
        while (sb.len && ((unsigned char)sb.buf[sb.len - 1] & 0xC0) == 0x80)
            sb.len--;
        if (sb.len && ((unsigned char)sb.buf[sb.len - 1] & 0xC0) == 0xC0) sb.len--;
        sb.buf[sb.len] = '\0';
        mp__strbuf_adds(&sb, "...");
    }
    const char *r = mp__arena_strdup(l->tmp, sb.buf);
    mp__strbuf_release(&sb);
    return r;
}

const char *mp__load_what(const mp_loader *l, const mp_ynode *key, const char *ctx)
{
    const char *k = mp__load_quote(l, key->str);
    return ctx ? mp__arena_printf(l->tmp, "\"%s\" of %s", k, ctx)
               : mp__arena_printf(l->tmp, "\"%s\"", k);
}

void mp__load_wrong_type(const mp_loader *l, const mp_ynode *key, const mp_ynode *val,
                         const char *what, const char *expected)
{
    mp__load_problem(l, mp__load_vpos(l, key, val), "%s must be %s, not %s", what, expected,
                     mp__ytype_name(val ? val->type : MP_YT_NULL));
}

void mp__load_unknown_key(const mp_loader *l, const mp_ynode *key, const char *ctx,
                          const char *const *names, size_t n, size_t stride)
{
    size_t limit = l->p->diags.limit ? l->p->diags.limit : 1000;
    if (l->p->diags.list.n >= limit) {
        /* Only counted from here on: spare the edit distances. */
        mp__diag_add(&l->p->diags, mp__load_pos(l, key), "unknown key");
        return;
    }
    const char *hint = mp__suggestv(key->str, names, n, stride);
    if (hint)
        mp__load_problem(l, mp__load_pos(l, key), "unknown key \"%s\" in %s; did you mean \"%s\"?",
                         mp__load_quote(l, key->str), ctx, hint);
    else
        mp__load_problem(l, mp__load_pos(l, key), "unknown key \"%s\" in %s",
                         mp__load_quote(l, key->str), ctx);
}

/* ------------------------------------------------------------ scalars */

static bool is_stringish(const mp_ynode *v)
{
    return v && (v->type == MP_YT_STRING || v->type == MP_YT_INT || v->type == MP_YT_NUMBER);
}

mp_pstr mp__load_keep(const mp_loader *l, const mp_ynode *n)
{
    return (mp_pstr){.s = mp__arena_strdup(l->a, n->str), .pos = mp__load_pos(l, n)};
}

bool mp__load_str(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                  mp_pstr *out)
{
    if (!is_stringish(val)) {
        mp__load_wrong_type(l, key, val, mp__load_what(l, key, ctx), "a string");
        return false;
    }
    *out = mp__load_keep(l, val);
    return true;
}

bool mp__load_nonempty(const mp_loader *l, const mp_ynode *key, const mp_ynode *val,
                       const char *ctx, mp_pstr *out)
{
    mp_pstr s;
    if (!mp__load_str(l, key, val, ctx, &s)) return false;
    if (!*s.s) {
        mp__load_problem(l, s.pos, "%s must not be empty", mp__load_what(l, key, ctx));
        return false;
    }
    *out = s;
    return true;
}

bool mp__load_text(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *what,
                   mp_pstr *out)
{
    if (!mp__ynode_is_scalar(val) || val->type == MP_YT_NULL) {
        mp__load_wrong_type(l, key, val, what, "a string");
        return false;
    }
    *out = mp__load_keep(l, val);
    return true;
}

bool mp__load_int(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                  int min, int *out)
{
    char expected[64];
    snprintf(expected, sizeof(expected), "a whole number >= %d", min);
    if (!val || (val->type != MP_YT_INT && val->type != MP_YT_NUMBER)) {
        mp__load_wrong_type(l, key, val, mp__load_what(l, key, ctx), expected);
        return false;
    }
    long long v = 0;
    bool ok = false;
    if (val->type == MP_YT_INT) {
        errno = 0;
        char *end = NULL;
        v = strtoll(val->str, &end, 10);
        ok = errno == 0 && end && *end == '\0' && v >= min && v <= INT_MAX;
    }
    if (!ok) {
        mp__load_problem(l, mp__load_pos(l, val), "%s must be %s, not %s",
                         mp__load_what(l, key, ctx), expected, mp__load_quote(l, val->str));
        return false;
    }
    *out = (int)v;
    return true;
}

bool mp__load_bool(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                   bool *out)
{
    if (!val || val->type != MP_YT_BOOL) {
        mp__load_wrong_type(l, key, val, mp__load_what(l, key, ctx), "true or false");
        return false;
    }
    *out = val->str[0] == 't';
    return true;
}

bool mp__load_duration(const mp_loader *l, const mp_ynode *key, const mp_ynode *val,
                       const char *ctx, bool allow_zero, int64_t *ms)
{
    if (!is_stringish(val)) {
        mp__load_wrong_type(l, key, val, mp__load_what(l, key, ctx), "a duration such as \"10m\"");
        return false;
    }
    int64_t v = 0;
    const char *why = NULL;
    if (mp__duration_parse(val->str, &v, &why) < 0 || (v == 0 && !allow_zero)) {
        mp__load_problem(l, mp__load_pos(l, val), "invalid duration \"%s\" for \"%s\": %s",
                         mp__load_quote(l, val->str), mp__load_quote(l, key->str),
                         why ? why : "must be more than 0");
        return false;
    }
    *ms = v;
    return true;
}

int mp__load_choice(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                    const char *const *choices, const char *expected)
{
    if (!is_stringish(val)) {
        mp__load_wrong_type(l, key, val, mp__load_what(l, key, ctx), expected);
        return -1;
    }
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], val->str) == 0) return i;
    const char *hint = mp__suggest(val->str, choices);
    mp__load_problem(l, mp__load_pos(l, val), "%s must be %s, not \"%s\"%s%s%s",
                     mp__load_what(l, key, ctx), expected, mp__load_quote(l, val->str),
                     hint ? "; did you mean \"" : "", hint ? hint : "", hint ? "\"?" : "");
    return -1;
}

/* ------------------------------------------------------------ containers */

bool mp__load_is_map(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                     const char *expected)
{
    if (val && val->type == MP_YT_MAP) return true;
    if (val && val->type != MP_YT_NULL)
        mp__load_wrong_type(l, key, val, mp__load_what(l, key, ctx), expected);
    return false;
}

void mp__load_str_list(const mp_loader *l, const mp_ynode *key, const mp_ynode *val,
                       const char *ctx, const char *expected, const char *item_expected,
                       mp_pstr_vec *out)
{
    if (!val || val->type == MP_YT_NULL) return;
    if (is_stringish(val)) {
        MP_VEC_PUSH(l->a, out, mp__load_keep(l, val));
        return;
    }
    if (val->type != MP_YT_LIST) {
        mp__load_wrong_type(l, key, val, mp__load_what(l, key, ctx), expected);
        return;
    }
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *it = val->items[i];
        if (is_stringish(it)) {
            MP_VEC_PUSH(l->a, out, mp__load_keep(l, it));
            continue;
        }
        const char *what = mp__arena_printf(l->tmp, "an item of %s", mp__load_what(l, key, ctx));
        mp__load_wrong_type(l, it, it, what, item_expected);
    }
}

bool mp__load_var_name_valid(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

void mp__load_env(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                  mp_kv_vec *out)
{
    if (!mp__load_is_map(l, key, val, ctx, "a mapping of variable names to values")) return;
    const char *where = mp__load_what(l, key, ctx);
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *k = val->pairs[i].key, *v = val->pairs[i].value;
        if (!mp__load_var_name_valid(k->str)) {
            mp__load_problem(l, mp__load_pos(l, k),
                             "invalid variable name \"%s\" in %s: use letters, digits and \"_\", "
                             "not starting with a digit",
                             mp__load_quote(l, k->str), where);
            continue;
        }
        mp_kv kv = {.key = mp__load_keep(l, k)};
        if (v->type == MP_YT_NULL) {
            kv.value = (mp_pstr){.s = "", .pos = mp__load_vpos(l, k, v)};
        } else {
            const char *what =
                mp__arena_printf(l->tmp, "\"%s\" in %s", mp__load_quote(l, k->str), where);
            if (!mp__load_text(l, k, v, what, &kv.value)) continue;
        }
        MP_VEC_PUSH(l->a, out, kv);
    }
}

void mp__load_secrets(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                      mp_pstr_vec *out)
{
    mp_pstr_vec names = {0};
    mp__load_str_list(l, key, val, ctx, "a list of variable names", "a variable name", &names);
    for (size_t i = 0; i < names.n; i++) {
        if (mp__load_var_name_valid(names.v[i].s))
            MP_VEC_PUSH(l->a, out, names.v[i]);
        else
            mp__load_problem(l, names.v[i].pos,
                             "invalid secret name \"%s\": use letters, digits and \"_\", not "
                             "starting with a digit",
                             mp__load_quote(l, names.v[i].s));
    }
}
