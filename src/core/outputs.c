/*
 * outputs.c -- parsing the $MODPIPE_OUTPUT file (see outputs.h).
 *
 * One pass over the bytes, a line at a time (memchr for the ends), with a
 * small state: outside a block, or inside one collecting lines until its
 * delimiter. Block values are assembled in a strbuf because "\r\n" line
 * ends are normalised; single-line values are handed out in place.
 */
#include "core/outputs.h"
#include "core/ctx.h"
#include "core/strmap.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int key_ok(const char *k, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!key_char(k[i])) return 0;
    return 1;
}

typedef struct parser {
    mp_outputs_fn on_output;
    mp_outputs_problem_fn on_problem;
    void *data;
    size_t problems;
} parser;

static void problem(parser *ps, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(parser *ps, unsigned line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ps->problems++;
    if (ps->on_problem) ps->on_problem(line, msg, ps->data);
}

/* Length to quote of a piece of input in a message. */
static int clip(size_t n)
{
    return n > 64 ? 64 : (int)n;
}

/* Find the first occurrence of "<<" in s[0..n), or n. */
static size_t find_heredoc(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '<' && s[i + 1] == '<') return i;
    return n;
}

size_t mp__outputs_parse(const char *text, size_t len, mp_outputs_fn on_output,
                         mp_outputs_problem_fn on_problem, void *data)
{
    parser ps = {on_output, on_problem, data, 0};
    mp_strbuf val = MP_STRBUF_INIT;
    const char *bkey = NULL, *delim = NULL; /* inside a block when bkey */
    size_t bklen = 0, dlen = 0, bstart_line = 0, blines = 0;
    int bbad = 0;
    unsigned lineno = 0;
    size_t off = 0;
    while (off < len) {
        const char *line = text + off;
        const char *nl = memchr(line, '\n', len - off);
        size_t n = nl ? (size_t)(nl - line) : len - off;
        off += n + (nl ? 1 : 0);
        lineno++;
        if (n && line[n - 1] == '\r') n--;
        int has_nul = memchr(line, '\0', n) != NULL;

        if (bkey) {
            if (n == dlen && memcmp(line, delim, n) == 0) {
                if (bbad)
                    problem(&ps, (unsigned)bstart_line, "value of \"%.*s\" contains a NUL byte",
                            clip(bklen), bkey);
                else if (on_output)
                    on_output(bkey, bklen, val.buf, val.len, data);
                bkey = NULL;
                continue;
            }
            if (has_nul) bbad = 1;
            if (blines++) mp__strbuf_addch(&val, '\n');
            mp__strbuf_add(&val, line, n);
            continue;
        }
        if (n == 0) continue;
        const char *eq = memchr(line, '=', n);
        size_t hd = find_heredoc(line, n);
        if (eq && (size_t)(eq - line) < hd) {
            size_t kl = (size_t)(eq - line);
            if (!key_ok(line, kl))
                problem(&ps, lineno, "invalid output key \"%.*s\" (keys are [A-Za-z0-9_-]+)",
                        clip(kl), line);
            else if (has_nul)
                problem(&ps, lineno, "value of \"%.*s\" contains a NUL byte", clip(kl), line);
            else if (on_output)
                on_output(line, kl, eq + 1, n - kl - 1, data);
            continue;
        }
        if (hd < n) {
            if (!key_ok(line, hd)) {
                problem(&ps, lineno, "invalid output key \"%.*s\" (keys are [A-Za-z0-9_-]+)",
                        clip(hd), line);
                continue;
            }
            if (hd + 2 == n) {
                problem(&ps, lineno, "block \"%.*s\" has an empty delimiter", clip(hd), line);
                continue;
            }
            bkey = line;
            bklen = hd;
            delim = line + hd + 2;
            dlen = n - hd - 2;
            bstart_line = lineno;
            blines = 0;
            bbad = 0;
            mp__strbuf_reset(&val);
            continue;
        }
        problem(&ps, lineno, "expected key=value or key<<DELIMITER, got \"%.*s\"", clip(n), line);
    }
    if (bkey) {
        problem(&ps, (unsigned)bstart_line, "block \"%.*s\" is not closed by \"%.*s\"", clip(bklen),
                bkey, clip(dlen), delim);
    }
    mp__strbuf_release(&val);
    return ps.problems;
}

void mp__outputs_set(mp_arena *a, mp_kv_vec *out, const char *key, size_t klen, const char *value,
                     size_t vlen)
{
    for (size_t i = 0; i < out->n; i++) {
        const char *k = out->v[i].key.s;
        if (strlen(k) == klen && memcmp(k, key, klen) == 0) {
            out->v[i].value.s = mp__arena_strndup(a, value, vlen);
            return;
        }
    }
    mp_kv kv = {{0}, {0}};
    kv.key.s = mp__arena_strndup(a, key, klen);
    kv.value.s = mp__arena_strndup(a, value, vlen);
    MP_VEC_PUSH(a, out, kv);
}

/* Reading a file indexes the keys, so a module writing many outputs costs
 * linear time (mp__outputs_set scans: it serves the few set through a
 * context). The index maps a key to its position + 1 in out. */
typedef struct file_parse {
    mp_arena *a;
    mp_kv_vec *out;
    mp_strbuf *problems;
    mp_strmap index;
} file_parse;

static void file_output(const char *key, size_t klen, const char *value, size_t vlen, void *data)
{
    file_parse *fp = data;
    uintptr_t at = (uintptr_t)mp__strmap_getn(&fp->index, key, klen);
    if (at) {
        fp->out->v[at - 1].value.s = mp__arena_strndup(fp->a, value, vlen);
        return;
    }
    mp_kv kv = {{0}, {0}};
    kv.key.s = mp__arena_strndup(fp->a, key, klen);
    kv.value.s = mp__arena_strndup(fp->a, value, vlen);
    MP_VEC_PUSH(fp->a, fp->out, kv);
    mp__strmap_put(&fp->index, kv.key.s, (void *)(uintptr_t)fp->out->n);
}

static void file_problem(unsigned line, const char *msg, void *data)
{
    file_parse *fp = data;
    if (fp->problems) mp__strbuf_addf(fp->problems, "$MODPIPE_OUTPUT line %u: %s\n", line, msg);
}

int mp__outputs_read_file(const char *path, mp_arena *a, mp_kv_vec *out, mp_strbuf *problems)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        if (problems)
            mp__strbuf_addf(problems, "cannot open $MODPIPE_OUTPUT %s: %s\n", path,
                            strerror(errno));
        return MP_EIO;
    }
    /* Sized by the file (plus one byte to see it grew), up to the limit. */
    struct stat st;
    size_t cap = 4096;
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        cap = (uint64_t)st.st_size < MP_OUTPUTS_MAX ? (size_t)st.st_size + 1 : MP_OUTPUTS_MAX + 1;
    char *buf = mp__xmalloc(cap);
    size_t len = 0;
    int too_big = 0, rc = 0;
    for (;;) {
        if (len == cap && cap < MP_OUTPUTS_MAX + 1) {
            cap = cap * 2 < MP_OUTPUTS_MAX + 1 ? cap * 2 : MP_OUTPUTS_MAX + 1;
            buf = mp__xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            if (problems)
                mp__strbuf_addf(problems, "cannot read $MODPIPE_OUTPUT %s: %s\n", path,
                                strerror(errno));
            rc = MP_EIO;
            break;
        }
        if (r == 0) break;
        len += (size_t)r;
        if (len > MP_OUTPUTS_MAX) {
            too_big = 1;
            len = MP_OUTPUTS_MAX;
            break;
        }
    }
    close(fd);
    if (rc == 0) {
        if (too_big) {
            /* Cut at the last complete line, so no item is half-read. */
            const char *nl = memrchr(buf, '\n', len);
            len = nl ? (size_t)(nl - buf) + 1 : 0;
        }
        file_parse fp = {a, out, problems, MP_STRMAP_INIT};
        for (size_t i = 0; i < out->n; i++)
            mp__strmap_put(&fp.index, out->v[i].key.s, (void *)(uintptr_t)(i + 1));
        rc = (int)mp__outputs_parse(buf, len, file_output, file_problem, &fp);
        mp__strmap_release(&fp.index);
        if (too_big) {
            if (problems)
                mp__strbuf_addf(problems,
                                "$MODPIPE_OUTPUT is larger than %d bytes; the rest was ignored\n",
                                MP_OUTPUTS_MAX);
            rc++;
        }
    }
    free(buf);
    return rc;
}
