/* model.c -- defaults and small helpers of the pipeline model (model.h). */
#include "core/model.h"

#include <string.h>

void mp__options_init(mp_options *o)
{
    memset(o, 0, sizeof(*o));
    o->parallelism = 0;
    o->on_failure = MP_ON_FAILURE_STOP;
    o->timeout_ms = 30LL * 60 * 1000;
    o->retries = 0;
    o->distributed.heartbeat_ms = 2000;
    o->distributed.worker_timeout_ms = 15000;
    o->distributed.registration_timeout_ms = 5LL * 60 * 1000;
    o->distributed.max_attempts = 3;
}

void mp__module_init(mp_module *m)
{
    memset(m, 0, sizeof(*m));
    m->timeout_ms = -1;
    m->retries = -1;
    m->retry_delay_ms = -1;
    m->priority = MP_PRIORITY_NORMAL;
}

mp_pos mp__pos_api(void)
{
    return (mp_pos){.file = "<api>", .line = 0, .col = 0};
}

bool mp__name_valid(const char *name)
{
    if (!name || !*name)
        return false;
    for (const char *c = name; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
            return false;
    }
    return true;
}

mp_module_decl *mp__decl_add(mp_pipeline *p, const char *name, mp_pos pos)
{
    if (mp__strmap_get(&p->decl_by_name, name))
        return NULL;
    mp_module_decl *d = mp__arena_alloc(p->arena, sizeof(*d));
    mp__module_init(&d->proto);
    d->proto.name = d->proto.base = mp__arena_strdup(p->arena, name);
    d->proto.pos = pos;
    d->proto.decl = d;
    MP_VEC_PUSH(p->arena, &p->decls, d);
    mp__strmap_put(&p->decl_by_name, d->proto.base, d);
    return d;
}
