/*
 * ctx.c -- mp_ctx (see ctx.h and modpipe.h).
 *
 * The cancel flag is an atomic read by the module's thread without a lock;
 * outputs are a heap array guarded by one mutex, since a module body may
 * set outputs from threads of its own while the executor cancels it.
 */
#include "core/ctx.h"
#include "core/error.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

struct output {
    char *key, *value;
};

struct mp_ctx {
    char *module;
    int attempt;
    atomic_int cancelled;
    pthread_mutex_t lock;
    struct output *out;
    size_t n, cap, bytes;
};

mp_ctx *mp__ctx_new(const char *module, int attempt)
{
    mp_ctx *c = mp__xcalloc(1, sizeof(*c));
    c->module = mp__xstrdup(module ? module : "");
    c->attempt = attempt;
    atomic_init(&c->cancelled, 0);
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void mp__ctx_free(mp_ctx *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->out[i].key);
        free(c->out[i].value);
    }
    free(c->out);
    free(c->module);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void mp__ctx_cancel(mp_ctx *c)
{
    if (c) atomic_store(&c->cancelled, 1);
}

const char *mp_ctx_module(const mp_ctx *c)
{
    return c ? c->module : "";
}

int mp_ctx_attempt(const mp_ctx *c)
{
    return c ? c->attempt : 0;
}

int mp_ctx_cancelled(const mp_ctx *c)
{
    /* atomic_load wants a non-const pointer before C17's DR 459 fix. */
    return c ? atomic_load((atomic_int *)&c->cancelled) : 0;
}

int mp__output_key_valid(const char *key)
{
    if (!key || !*key) return 0;
    for (const char *k = key; *k; k++) {
        char ch = *k;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

int mp_ctx_set_output(mp_ctx *c, const char *key, const char *value)
{
    if (!c) return MP_EINVAL;
    if (!mp__output_key_valid(key)) return MP_EINVAL;
    if (!value) value = "";
    size_t vlen = strlen(value), klen = strlen(key);
    int rc = 0;
    pthread_mutex_lock(&c->lock);
    size_t i = 0;
    while (i < c->n && strcmp(c->out[i].key, key) != 0)
        i++;
    size_t old = i < c->n ? strlen(c->out[i].value) : 0;
    size_t add = i < c->n ? vlen : klen + vlen;
    if (c->bytes - old + add > MP_CTX_OUTPUT_LIMIT) {
        rc = MP_ETOOBIG;
    } else if (i < c->n) {
        free(c->out[i].value);
        c->out[i].value = mp__xstrdup(value);
        c->bytes = c->bytes - old + add;
    } else {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 8;
            c->out = mp__xrealloc(c->out, mp__xmul(c->cap, sizeof(*c->out)));
        }
        c->out[c->n].key = mp__xstrdup(key);
        c->out[c->n].value = mp__xstrdup(value);
        c->n++;
        c->bytes += add;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

size_t mp__ctx_outputs(mp_ctx *c, mp_ctx_output_fn fn, void *data)
{
    if (!c) return 0;
    pthread_mutex_lock(&c->lock);
    size_t n = c->n;
    if (fn)
        for (size_t i = 0; i < n; i++)
            fn(c->out[i].key, c->out[i].value, data);
    pthread_mutex_unlock(&c->lock);
    return n;
}
