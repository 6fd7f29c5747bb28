/*
 * strbuf.h -- growable NUL-terminated byte string on the heap (after git's).
 *
 * `mp_strbuf sb = MP_STRBUF_INIT;` ... `mp__strbuf_release(&sb);`
 * `buf` is always a valid C string; `len` excludes the NUL. The caller owns
 * the buffer; mp__strbuf_detach() hands it over and resets the strbuf.
 */
#ifndef MP_CORE_STRBUF_H
#define MP_CORE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct mp_strbuf {
    char *buf;
    size_t len, alloc;
} mp_strbuf;

extern char mp__strbuf_empty[];
#define MP_STRBUF_INIT {mp__strbuf_empty, 0, 0}

void mp__strbuf_release(mp_strbuf *sb);
char *mp__strbuf_detach(mp_strbuf *sb);
void mp__strbuf_reset(mp_strbuf *sb);
void mp__strbuf_grow(mp_strbuf *sb, size_t extra);
void mp__strbuf_add(mp_strbuf *sb, const void *data, size_t n);
void mp__strbuf_adds(mp_strbuf *sb, const char *s);
void mp__strbuf_addch(mp_strbuf *sb, char c);
void mp__strbuf_addf(mp_strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mp__strbuf_vaddf(mp_strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
