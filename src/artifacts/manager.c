/*
 * manager.c -- publish and single-flight fetch (see manager.h).
 *
 * Locks: `lock` guards the table of downloads in flight; `done` (a
 * condition on the monotonic clock) is broadcast whenever one ends. The
 * download itself, the digest check and the extraction run unlocked.
 */
#include "artifacts/manager.h"
#include "artifacts/fileio.h"
#include "artifacts/glob.h"
#include "artifacts/pack.h"
#include "artifacts/store.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct flight {
    char hex[65];
    struct flight *next;
} flight;

struct mp_art_manager {
    mp_store *store;
    bool own_store;
    char *cache_dir;
    pthread_mutex_t lock;
    pthread_cond_t done;
    flight *flights;
    atomic_uint_fast64_t gets, puts, exists;
};

int mp__art_manager_open(const mp_art_manager_opts *o, mp_art_manager **out, mp_error *err)
{
    if (!o || (!o->store && !o->store_url) || !o->cache_dir || o->cache_dir[0] != '/')
        return mp__error(err, MP_EINVAL, "", "artifact manager: a store and an absolute cache "
                                             "directory are needed");
    mp_store *s = o->store;
    if (!s) {
        int64_t t = o->open_timeout_ms > 0 ? o->open_timeout_ms : 30000;
        mp_store_open_opts so = {.url = o->store_url, .deadline = mp__deadline_in(t)};
        int rc = mp__store_open(&so, &s, err);
        if (rc < 0) return rc;
    }
    mp_strbuf sub = MP_STRBUF_INIT;
    int rc = 0;
    const char *subs[] = {"sha256", "tmp"};
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        mp__strbuf_reset(&sub);
        mp__strbuf_addf(&sub, "%s/%s", o->cache_dir, subs[i]);
        rc = mp__art_mkdirs(sub.buf, err);
    }
    mp__strbuf_release(&sub);
    if (rc < 0) {
        if (!o->store) mp__store_close(s);
        return rc;
    }
    mp_art_manager *m = mp__xcalloc(1, sizeof *m);
    m->store = s;
    m->own_store = !o->store;
    m->cache_dir = mp__xstrdup(o->cache_dir);
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->done, &ca);
    pthread_condattr_destroy(&ca);
    *out = m;
    return 0;
}

void mp__art_manager_close(mp_art_manager *m)
{
    if (!m) return;
    if (m->own_store) mp__store_close(m->store);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->done);
    free(m->cache_dir);
    free(m);
}

const char *mp__art_manager_store_shown(const mp_art_manager *m)
{
    return mp__store_url_shown(m->store);
}

void mp__art_manager_stats(const mp_art_manager *m, mp_art_stats *st)
{
    st->gets = atomic_load(&((mp_art_manager *)m)->gets);
    st->puts = atomic_load(&((mp_art_manager *)m)->puts);
    st->exists = atomic_load(&((mp_art_manager *)m)->exists);
}

void mp__art_published_release(mp_art_published *p)
{
    if (!p) return;
    free(p->name);
    for (size_t i = 0; i < p->nfiles; i++) free(p->files[i]);
    free(p->files);
    memset(p, 0, sizeof *p);
}

/* --------------------------------------------------------------- publish */

static char *tmp_in_cache(mp_art_manager *m, const char *what)
{
    mp_strbuf p = MP_STRBUF_INIT;
    mp__strbuf_addf(&p, "%s/tmp/%s", m->cache_dir, what);
    char *t = mp__art_tmp_path(p.buf);
    mp__strbuf_release(&p);
    return t;
}

static void patterns_text(mp_strbuf *sb, const char *const *patterns, size_t n)
{
    for (size_t i = 0; i < n; i++) mp__strbuf_addf(sb, "%s'%s'", i ? ", " : "", patterns[i]);
}

int mp__art_publish(mp_art_manager *m, const char *module, const char *workdir, const char *name,
                    const char *const *patterns, size_t npatterns, const atomic_int *cancel,
                    int64_t deadline, mp_art_published *out, mp_error *err)
{
    memset(out, 0, sizeof *out);
    mp_glob_result g;
    mp_error e = {0};
    int rc = mp__glob_run(workdir, patterns, npatterns, &g, &e);
    if (rc < 0)
        return mp__error(err, rc, name, "artifact '%s' of module '%s': %s", name, module,
                         e.message);
    if (g.n == 0) {
        mp_strbuf pt = MP_STRBUF_INIT;
        patterns_text(&pt, patterns, npatterns);
        rc = mp__error(err, MP_ENOENT, name,
                       "artifact '%s' of module '%s': no file matches %s in %s", name, module,
                       pt.buf, workdir);
        mp__strbuf_release(&pt);
        return rc;
    }
    char *tmp = tmp_in_cache(m, name);
    mp_pack_result pr;
    rc = mp__pack(workdir, &g, tmp, cancel, deadline, &pr, &e);
    mp__glob_release(&g);
    if (rc < 0) {
        free(tmp);
        return mp__error(err, rc, name, "artifact '%s' of module '%s': %s", name, module,
                         e.message);
    }
    char key[MP_STORE_BLOB_KEY_SIZE];
    mp__store_blob_key(pr.digest, key, sizeof key);
    atomic_fetch_add(&m->exists, 1);
    rc = mp__store_exists(m->store, key, NULL, deadline, &e);
    bool uploaded = false;
    if (rc == 0) {
        atomic_fetch_add(&m->puts, 1);
        rc = mp__store_put(m->store, key, tmp, deadline, &e);
        uploaded = rc == 0;
    }
    unlink(tmp);
    free(tmp);
    if (rc < 0) {
        mp__pack_result_release(&pr);
        return mp__error(err, rc, key, "artifact '%s' of module '%s': cannot store %s in %s: %s",
                         name, module, key, mp__store_url_shown(m->store), e.message);
    }
    out->name = mp__xstrdup(name);
    snprintf(out->digest, sizeof out->digest, "sha256:%s", pr.digest);
    out->size = pr.size;
    out->nfiles = pr.nfiles;
    out->files = pr.files;
    out->uploaded = uploaded;
    return 0;
}

/* ----------------------------------------------------------------- fetch */

static flight **find_flight(mp_art_manager *m, const char *hex)
{
    flight **f = &m->flights;
    while (*f && strcmp((*f)->hex, hex) != 0) f = &(*f)->next;
    return f;
}

/* Wait on `done` until the deadline: 0, or MP_ETIMEDOUT. */
static int wait_done(mp_art_manager *m, int64_t deadline)
{
    struct timespec ts = {.tv_sec = deadline / 1000, .tv_nsec = (long)(deadline % 1000) * 1000000};
    int r = pthread_cond_timedwait(&m->done, &m->lock, &ts);
    return r == ETIMEDOUT && mp__deadline_passed(deadline) ? MP_ETIMEDOUT : 0;
}

/* Download blob hex into the cache as `path` (verified). */
static int download(mp_art_manager *m, const char *producer, const char *name, const char *hex,
                    const char *path, const atomic_int *cancel, int64_t deadline, mp_error *err)
{
    char key[MP_STORE_BLOB_KEY_SIZE];
    mp__store_blob_key(hex, key, sizeof key);
    char *tmp = tmp_in_cache(m, hex);
    mp_error e = {0};
    atomic_fetch_add(&m->gets, 1);
    int rc = mp__store_get(m->store, key, tmp, deadline, &e);
    if (rc == MP_ENOENT) {
        rc = mp__error(err, MP_ENOENT, key,
                       "artifact '%s' of module '%s' is not in the store: no object '%s' in %s",
                       name, producer, key, mp__store_url_shown(m->store));
    } else if (rc < 0) {
        rc = mp__error(err, rc, key, "artifact '%s' of module '%s': cannot fetch '%s' from %s: %s",
                       name, producer, key, mp__store_url_shown(m->store), e.message);
    } else {
        char got[65];
        rc = mp__sha256_file(tmp, cancel, deadline, got, &e);
        if (rc < 0)
            rc = mp__error(err, rc, key, "artifact '%s' of module '%s': %s", name, producer,
                           e.message);
        else if (strcmp(got, hex) != 0)
            rc = mp__error(err, MP_EIO, key,
                           "artifact '%s' of module '%s' is corrupt: '%s' in %s has sha256 %s",
                           name, producer, key, mp__store_url_shown(m->store), got);
        else if (rename(tmp, path) < 0)
            rc = mp__error(err, MP_EIO, path, "cannot put '%s' into the cache: %s", path,
                           strerror(errno));
    }
    if (rc < 0) unlink(tmp);
    free(tmp);
    return rc;
}

static bool hex64(const char *s)
{
    if (strlen(s) != 64) return false;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

int mp__art_fetch(mp_art_manager *m, const char *producer, const char *name, const char *digest,
                  const char *target, const atomic_int *cancel, int64_t deadline, mp_error *err)
{
    if (!digest || strncmp(digest, "sha256:", 7) != 0 || !hex64(digest + 7))
        return mp__error(err, MP_EINVAL, name, "artifact '%s' of module '%s': bad digest '%s'",
                         name, producer, digest ? digest : "(none)");
    const char *hex = digest + 7;
    mp_strbuf path = MP_STRBUF_INIT;
    mp__strbuf_addf(&path, "%s/sha256/%s", m->cache_dir, hex);
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    for (;;) {
        if (access(path.buf, F_OK) == 0) break; /* verified, cached */
        if (*find_flight(m, hex)) {
            if ((rc = wait_done(m, deadline)) < 0) break;
            continue;
        }
        if (mp__deadline_passed(deadline)) {
            rc = MP_ETIMEDOUT;
            break;
        }
        flight *f = mp__xcalloc(1, sizeof *f);
        snprintf(f->hex, sizeof f->hex, "%s", hex);
        f->next = m->flights;
        m->flights = f;
        pthread_mutex_unlock(&m->lock);
        rc = download(m, producer, name, hex, path.buf, cancel, deadline, err);
        pthread_mutex_lock(&m->lock);
        flight **fp = find_flight(m, hex);
        flight *mine = *fp;
        *fp = mine->next;
        free(mine);
        pthread_cond_broadcast(&m->done);
        break;
    }
    pthread_mutex_unlock(&m->lock);
    if (rc == MP_ETIMEDOUT && (!err || err->code != MP_ETIMEDOUT))
        rc = mp__error(err, MP_ETIMEDOUT, name,
                       "artifact '%s' of module '%s': deadline passed waiting for its download",
                       name, producer);
    if (rc == 0) {
        mp_error e = {0};
        rc = mp__unpack(path.buf, target, cancel, deadline, NULL, &e);
        if (rc < 0)
            rc = mp__error(err, rc, e.where, "artifact '%s' of module '%s' into %s: %s", name,
                           producer, target, e.message);
    }
    mp__strbuf_release(&path);
    return rc;
}
