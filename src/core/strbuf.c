/* strbuf.c -- see strbuf.h. */
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <string.h>

char mp__strbuf_empty[1];

void mp__strbuf_release(mp_strbuf *sb)
{
    if (sb->alloc)
        free(sb->buf);
    sb->buf = mp__strbuf_empty;
    sb->len = sb->alloc = 0;
}

char *mp__strbuf_detach(mp_strbuf *sb)
{
    char *r = sb->alloc ? sb->buf : mp__xstrdup("");
    sb->buf = mp__strbuf_empty;
    sb->len = sb->alloc = 0;
    return r;
}

void mp__strbuf_reset(mp_strbuf *sb)
{
    sb->len = 0;
    if (sb->alloc)
        sb->buf[0] = '\0';
}

void mp__strbuf_grow(mp_strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->alloc)
        return;
    size_t want = sb->len + extra + 1;
    size_t n = sb->alloc ? sb->alloc : 64;
    while (n < want)
        n = n * 2 > n ? n * 2 : want;
    if (sb->alloc) {
        sb->buf = mp__xrealloc(sb->buf, n);
    } else {
        sb->buf = mp__xmalloc(n);
        sb->buf[0] = '\0';
    }
    sb->alloc = n;
}

void mp__strbuf_add(mp_strbuf *sb, const void *data, size_t n)
{
    mp__strbuf_grow(sb, n);
    memcpy(sb->buf + sb->len, data, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void mp__strbuf_adds(mp_strbuf *sb, const char *s)
{
    mp__strbuf_add(sb, s, strlen(s));
}

void mp__strbuf_addch(mp_strbuf *sb, char c)
{
    mp__strbuf_add(sb, &c, 1);
}

void mp__strbuf_vaddf(mp_strbuf *sb, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        mp__die("strbuf_addf: bad format \"%s\"", fmt);
    mp__strbuf_grow(sb, (size_t)n);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
}

void mp__strbuf_addf(mp_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mp__strbuf_vaddf(sb, fmt, ap);
    va_end(ap);
}
