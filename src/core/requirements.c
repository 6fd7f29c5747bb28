/*
 * requirements.c -- checking the pipeline's requirements (requirements.h).
 */
#include "core/requirements.h"
#include "core/cond.h"
#include "core/error.h"
#include "core/strbuf.h"

#include <stdio.h>
#include <string.h>

/* Why requirement r is unmet, appended to sb; nothing when it holds. */
static int check_one(const mp_cond *c, const char *workspace, char *const *environ, mp_strbuf *sb)
{
    const char *arg = c->arg.s ? c->arg.s : "";
    const char *eq = c->equals.s;
    if (c->kind == MP_COND_COMMAND) {
        char why[256];
        if (mp__cmd_check_run(arg, workspace, MP_COND_COMMAND_TIMEOUT_MS, why, sizeof(why)))
            return 1;
        mp__strbuf_addf(sb, "command \"%s\" failed (%s)", arg, why);
        return 0;
    }
    if (mp__cond_eval(c->kind, arg, eq, workspace, environ) == 1) return 1;
    switch (c->kind) {
    case MP_COND_ENV:
        if (eq)
            mp__strbuf_addf(sb, "env \"%s\" is not \"%s\"", arg, eq);
        else
            mp__strbuf_addf(sb, "env \"%s\" is not set", arg);
        break;
    case MP_COND_FILE:
        mp__strbuf_addf(sb, "file \"%s\" does not exist", arg);
        break;
    case MP_COND_OS:
        mp__strbuf_addf(sb, "os is not \"%s\"", arg);
        break;
    case MP_COND_COMMAND:
        break;
    }
    return 0;
}

int mp__requirements_check(const mp_pipeline *p, const char *workspace, char *const *environ,
                           mp_error *err)
{
    mp_strbuf msg = MP_STRBUF_INIT;
    char where[256] = "";
    size_t unmet = 0;
    for (size_t i = 0; i < p->requirements.n; i++) {
        const mp_cond *c = &p->requirements.v[i].cond;
        size_t before = msg.len;
        mp__strbuf_adds(&msg, unmet ? "; " : "requirement not met: ");
        if (check_one(c, workspace, environ, &msg)) {
            msg.len = before;
            msg.buf[before] = '\0';
            continue;
        }
        if (!unmet++ && c->pos.file)
            snprintf(where, sizeof(where), "%s:%u:%u", c->pos.file, c->pos.line, c->pos.col);
    }
    int rc = 0;
    if (unmet) rc = mp__error(err, MP_EINVALID, where, "%s", msg.buf);
    mp__strbuf_release(&msg);
    return rc;
}
