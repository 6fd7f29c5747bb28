/* caps.c -- see caps.h. */
#include "dist/caps.h"
#include "coord/class.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

static void lower(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    if (n) out[i] = '\0';
}

void mp__caps_os_name(const char *sysname, char *out, size_t n)
{
    if (strcmp(sysname, "Linux") == 0)
        snprintf(out, n, "linux");
    else if (strcmp(sysname, "Darwin") == 0)
        snprintf(out, n, "macos");
    else if (strncmp(sysname, "Windows", 7) == 0 || strncmp(sysname, "MINGW", 5) == 0 ||
             strncmp(sysname, "CYGWIN", 6) == 0 || strncmp(sysname, "MSYS", 4) == 0)
        snprintf(out, n, "windows");
    else
        lower(sysname, out, n);
}

void mp__caps_arch_name(const char *m, char *out, size_t n)
{
    if (strcmp(m, "x86_64") == 0 || strcmp(m, "amd64") == 0 || strcmp(m, "AMD64") == 0)
        snprintf(out, n, "x86_64");
    else if (strcmp(m, "aarch64") == 0 || strcmp(m, "arm64") == 0 || strcmp(m, "ARM64") == 0)
        snprintf(out, n, "arm64");
    else if (m[0] == 'i' && m[1] >= '3' && m[1] <= '6' && strcmp(m + 2, "86") == 0)
        snprintf(out, n, "x86");
    else if (strncmp(m, "armv", 4) == 0)
        snprintf(out, n, "arm");
    else
        lower(m, out, n);
}

int mp__caps_auto(char **out, mp_error *err)
{
    struct utsname u;
    if (uname(&u) < 0)
        return mp__error(err, MP_EIO, "uname", "cannot read the system name: %s", strerror(errno));
    char os[64], arch[64], pairs[160];
    mp__caps_os_name(u.sysname, os, sizeof os);
    mp__caps_arch_name(u.machine, arch, sizeof arch);
    snprintf(pairs, sizeof pairs, "os=%s,arch=%s", os, arch);
    return mp__coord_class_canon(pairs, out, err);
}

/* Has canonical class `cls` a pair with this key? */
static bool has_key(const char *cls, const char *key, size_t klen)
{
    for (const char *p = cls; *p;) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') return true;
        const char *c = strchr(p, ',');
        if (!c) break;
        p = c + 1;
    }
    return false;
}

int mp__caps_build(const char *automatic, const char *env_value, const char *const *flags,
                   size_t nflags, char **out, mp_error *err)
{
    mp_strbuf given = MP_STRBUF_INIT;
    if (env_value && *env_value) mp__strbuf_adds(&given, env_value);
    for (size_t i = 0; i < nflags; i++) {
        if (given.len) mp__strbuf_addch(&given, ',');
        mp__strbuf_adds(&given, flags[i]);
    }
    char *explicit_caps = NULL;
    mp_error e = {0};
    int rc = mp__coord_class_canon(given.buf, &explicit_caps, &e);
    mp__strbuf_release(&given);
    if (rc < 0) return mp__error(err, MP_EUSAGE, "--capability", "%s", e.message);
    mp_strbuf all = MP_STRBUF_INIT;
    mp__strbuf_adds(&all, explicit_caps);
    for (const char *p = automatic ? automatic : ""; *p;) { /* automatic, unless overridden */
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq && !has_key(explicit_caps, p, (size_t)(eq - p))) {
            if (all.len) mp__strbuf_addch(&all, ',');
            mp__strbuf_add(&all, p, len);
        }
        p = c ? c + 1 : p + len;
    }
    free(explicit_caps);
    rc = mp__coord_class_canon(all.buf, out, err);
    mp__strbuf_release(&all);
    return rc;
}

int mp__caps_module_class(const mp_module *m, char **out, mp_error *err)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    for (size_t i = 0; i < m->requires.n; i++) {
        const char *k = m->requires.v[i].key.s, *v = m->requires.v[i].value.s;
        if (strchr(k, ',') || strchr(v ? v : "", ',')) {
            mp__strbuf_release(&sb);
            return mp__error(err, MP_EINVAL, m->name, "requires %s: ',' is not allowed", k);
        }
        mp__strbuf_addf(&sb, "%s%s=%s", sb.len ? "," : "", k, v ? v : "");
    }
    if (m->pin_to_master) mp__strbuf_addf(&sb, "%sinstance=0", sb.len ? "," : "");
    mp_error e = {0};
    int rc = mp__coord_class_canon(sb.buf, out, &e);
    mp__strbuf_release(&sb);
    if (rc < 0) return mp__error(err, rc, m->name, "requires: %s", e.message);
    return 0;
}

bool mp__caps_match(const char *cls, const char *caps, char *missing, size_t n)
{
    if (mp__coord_class_served(cls, caps)) return true;
    if (missing && n) {
        missing[0] = '\0';
        for (const char *p = cls; *p;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            char pair[MP_COORD_CLASS_MAX];
            snprintf(pair, sizeof pair, "%.*s", (int)len, p);
            if (!mp__coord_class_served(pair, caps)) {
                snprintf(missing, n, "%s", pair);
                break;
            }
            p = c ? c + 1 : p + len;
        }
    }
    return false;
}
