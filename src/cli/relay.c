/*
 * relay.c -- worker output folded into the master's (relay.h).
 *
 * Threads: one relay thread, started by mp__relay_start and joined by
 * mp__relay_stop. Locks: `mu` guards `stopping` and `deadline`, which the
 * caller sets; everything else is the thread's.
 */
#include "cli/relay.h"

#include "core/strbuf.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct source {
    int fd;
    char *prefix;
    mp_strbuf line;
    bool eof;
} source;

struct mp_relay {
    int out_fd, efd;
    source *src;
    size_t n;
    pthread_t tid;
    pthread_mutex_t mu;
    bool stopping;
    int64_t deadline;
};

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        buf += w;
        len -= (size_t)w;
    }
}

static void emit(mp_relay *r, source *s, const char *text, size_t len)
{
    if (!s->prefix) return;
    mp_strbuf out = MP_STRBUF_INIT;
    mp__strbuf_adds(&out, s->prefix);
    mp__strbuf_add(&out, text, len);
    mp__strbuf_addch(&out, '\n');
    write_all(r->out_fd, out.buf, out.len);
    mp__strbuf_release(&out);
}

/* Read what is there; write every complete line. */
static void pump(mp_relay *r, source *s)
{
    char buf[16384];
    for (;;) {
        ssize_t n = read(s->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return; /* nothing more now */
        if (n <= 0) { /* end of file (or a read error: the same for us) */
            if (s->line.len) emit(r, s, s->line.buf, s->line.len);
            mp__strbuf_reset(&s->line);
            s->eof = true;
            return;
        }
        mp__strbuf_add(&s->line, buf, (size_t)n);
        size_t start = 0;
        for (size_t i = 0; i < s->line.len; i++) {
            if (s->line.buf[i] == '\n') {
                emit(r, s, s->line.buf + start, i - start);
                start = i + 1;
            } else if (i - start + 1 >= MP_RELAY_LINE_MAX) {
                emit(r, s, s->line.buf + start, i - start + 1);
                start = i + 1;
            }
        }
        memmove(s->line.buf, s->line.buf + start, s->line.len - start);
        s->line.len -= start;
        s->line.buf[s->line.len] = '\0';
    }
}

static void *relay_main(void *arg)
{
    mp_relay *r = arg;
    struct pollfd *pf = mp__xcalloc(r->n + 1, sizeof *pf);
    for (;;) {
        size_t k = 0;
        for (size_t i = 0; i < r->n; i++)
            if (!r->src[i].eof) pf[k++] = (struct pollfd){.fd = r->src[i].fd, .events = POLLIN};
        pthread_mutex_lock(&r->mu);
        bool stopping = r->stopping;
        int64_t deadline = r->deadline;
        pthread_mutex_unlock(&r->mu);
        if (k == 0 || (stopping && mp__deadline_passed(deadline))) break;
        pf[k++] = (struct pollfd){.fd = r->efd, .events = POLLIN};
        int timeout = stopping ? mp__deadline_poll_ms(deadline) : -1;
        int rc = poll(pf, k, timeout);
        if (rc < 0 && errno != EINTR) break;
        uint64_t v;
        if (read(r->efd, &v, sizeof v) < 0) { /* nothing signalled */
        }
        for (size_t i = 0; i < r->n; i++)
            if (!r->src[i].eof) pump(r, &r->src[i]);
    }
    for (size_t i = 0; i < r->n; i++) /* what is readable now, then the rest of a line */
        if (!r->src[i].eof) {
            pump(r, &r->src[i]);
            if (r->src[i].line.len) emit(r, &r->src[i], r->src[i].line.buf, r->src[i].line.len);
        }
    free(pf);
    return NULL;
}

mp_relay *mp__relay_start(int out_fd, const mp_relay_source *src, size_t n)
{
    mp_relay *r = mp__xcalloc(1, sizeof *r);
    r->out_fd = out_fd;
    r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r->n = n;
    r->src = mp__xcalloc(n ? n : 1, sizeof *r->src);
    for (size_t i = 0; i < n; i++) {
        r->src[i].fd = src[i].fd;
        r->src[i].prefix = src[i].prefix ? mp__xstrdup(src[i].prefix) : NULL;
        r->src[i].line = (mp_strbuf)MP_STRBUF_INIT;
        r->src[i].eof = src[i].fd < 0;
    }
    pthread_mutex_init(&r->mu, NULL);
    if (r->efd < 0 || pthread_create(&r->tid, NULL, relay_main, r) != 0) {
        if (r->efd >= 0) close(r->efd);
        for (size_t i = 0; i < n; i++)
            free(r->src[i].prefix);
        free(r->src);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return NULL;
    }
    return r;
}

void mp__relay_stop(mp_relay *r, int64_t deadline)
{
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    r->deadline = deadline;
    pthread_mutex_unlock(&r->mu);
    uint64_t one = 1;
    if (write(r->efd, &one, sizeof one) < 0) { /* the thread ends at its deadline anyway */
    }
    pthread_join(r->tid, NULL);
    close(r->efd);
    for (size_t i = 0; i < r->n; i++) {
        free(r->src[i].prefix);
        mp__strbuf_release(&r->src[i].line);
    }
    free(r->src);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
