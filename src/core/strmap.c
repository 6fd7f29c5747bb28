/* strmap.c -- see strmap.h. Load factor kept below 1/2; no deletion. */
#include "core/strmap.h"
#include "core/xalloc.h"

#include <stdint.h>
#include <string.h>

struct mp_strmap_slot {
    const char *key;
    size_t len;
    uint64_t hash;
    void *value;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

void mp__strmap_release(mp_strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

static struct mp_strmap_slot *find(const mp_strmap *m, const char *key, size_t len,
                                   uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct mp_strmap_slot *s = &m->slots[i];
        if (!s->key)
            return s;
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
            return s;
    }
}

static void rehash(mp_strmap *m)
{
    size_t ocap = m->cap;
    struct mp_strmap_slot *old = m->slots;
    m->cap = ocap ? ocap * 2 : 16;
    m->slots = mp__xcalloc(m->cap, sizeof(*m->slots));
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            *find(m, old[i].key, old[i].len, old[i].hash) = old[i];
    free(old);
}

void *mp__strmap_put(mp_strmap *m, const char *key, void *value)
{
    if ((m->n + 1) * 2 > m->cap)
        rehash(m);
    size_t len = strlen(key);
    uint64_t h = fnv1a(key, len);
    struct mp_strmap_slot *s = find(m, key, len, h);
    void *prev = s->key ? s->value : NULL;
    if (!s->key) {
        s->key = key;
        s->len = len;
        s->hash = h;
        m->n++;
    }
    s->value = value;
    return prev;
}

void *mp__strmap_getn(const mp_strmap *m, const char *key, size_t len)
{
    if (!m->cap)
        return NULL;
    struct mp_strmap_slot *s = find(m, key, len, fnv1a(key, len));
    return s->key ? s->value : NULL;
}

void *mp__strmap_get(const mp_strmap *m, const char *key)
{
    return mp__strmap_getn(m, key, strlen(key));
}
