/* xalloc.c -- see xalloc.h. */
#include "core/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

_Noreturn void mp__die(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, "modpipe: fatal: ", 16);
    w = write(STDERR_FILENO, buf, (size_t)n);
    (void)w;
    abort();
}

void *mp__xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        mp__die("out of memory allocating %zu bytes", n);
    return p;
}

void *mp__xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        mp__die("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *mp__xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        mp__die("out of memory reallocating to %zu bytes", n);
    return q;
}

char *mp__xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = mp__xmalloc(n);
    memcpy(d, s, n);
    return d;
}

size_t mp__xmul(size_t n, size_t m)
{
    if (m && n > (size_t)-1 / m)
        mp__die("size overflow: %zu x %zu", n, m);
    return n * m;
}
