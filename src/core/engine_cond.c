/*
 * engine_cond.c -- a module's start in the engine: its skip_if and run_if
 * conditions, in order, before its first attempt (engine_int.h, cond.h).
 *
 * skip_if: the first condition that holds skips the module; run_if: the
 * first that does not hold skips it; the reason names that condition.
 * env, os and file conditions are decided at once; a {command: ...} one
 * is started and the module waits in phase COND, watched by the loop,
 * until mp__eng_cond_done() picks up where evaluation left off.
 * Expressions in condition strings are resolved first (module_env.h).
 */
#include "core/engine_int.h"

#include <stdio.h>

/* Does condition c, with value v, end the module (skipped)? */
static int cond_decides(engine *e, size_t i, const mp_cond *c, const char *arg, const char *eq,
                        int v, const char *detail)
{
    mod_state *s = mp__eng_slot(e, i);
    int skip_if = s->cond_list == 0;
    if (skip_if ? !v : v) return 0;
    char os[64] = "";
    if (!skip_if && c->kind == MP_COND_OS) {
        snprintf(os, sizeof(os), "this is %s", mp__cond_os_name());
        detail = os;
    }
    const char *reason = mp__cond_reason(e->run->arena, c->kind, arg, eq, skip_if,
                                         c->kind == MP_COND_COMMAND && skip_if ? NULL : detail);
    (&e->run->results[i])->skip_reason = mp__eng_masked(e, reason);
    mp__eng_finish(e, i, MP_STATUS_SKIPPED);
    return 1;
}

static const mp_cond *cur_cond(engine *e, size_t i)
{
    mod_state *s = mp__eng_slot(e, i);
    const mp_module *m = e->p->modules.v[i];
    const mp_cond_vec *v = s->cond_list == 0 ? &m->skip_if : &m->run_if;
    return s->cond_i < v->n ? &v->v[s->cond_i] : NULL;
}

/* Evaluate conditions from the current one on; start the first attempt
 * when all allow it. Stops at a command condition (watched by the loop). */
static void advance_conditions(engine *e, size_t i)
{
    mod_state *s = mp__eng_slot(e, i);
    for (; s->cond_list < 2; s->cond_list++, s->cond_i = 0) {
        const mp_cond *c;
        while ((c = cur_cond(e, i)) != NULL) {
            mp_module_env me = mp__eng_env(e, i, NULL);
            const char *arg = mp__module_subst(s->att_arena, &me, c->arg.s);
            const char *eq = mp__module_subst(s->att_arena, &me, c->equals.s);
            if (c->kind == MP_COND_COMMAND) {
                s->check_arg = arg;
                mp__cmd_check_start(&s->check, arg ? arg : "", e->workspace,
                                    (const char *const *)e->environ, MP_COND_COMMAND_TIMEOUT_MS);
                if (!s->check.done) {
                    s->phase = MOD_COND;
                    return;
                }
                int ok = s->check.ok;
                mp__cmd_check_release(&s->check);
                if (cond_decides(e, i, c, arg, NULL, ok, s->check.why)) return;
            } else {
                int v = mp__cond_eval(c->kind, arg, eq, e->workspace, e->environ) == 1;
                if (cond_decides(e, i, c, arg, eq, v, NULL)) return;
            }
            s->cond_i++;
        }
    }
    mp__eng_art_before(e, i);
}

void mp__eng_cond_done(engine *e, size_t i)
{
    mod_state *s = mp__eng_slot(e, i);
    const mp_cond *c = cur_cond(e, i);
    int ok = s->check.ok;
    mp__cmd_check_release(&s->check);
    if (cond_decides(e, i, c, s->check_arg, NULL, ok, s->check.why)) return;
    s->cond_i++;
    advance_conditions(e, i);
}

void mp__eng_module_begin(engine *e, size_t i)
{
    mod_state *s = mp__eng_slot(e, i);
    const mp_module *m = e->p->modules.v[i];
    mp_result *r = (&e->run->results[i]);
    r->instance = e->o->instance_index;
    int retries = m->retries >= 0 ? m->retries : e->p->options.retries;
    s->max_attempts = (retries > 0 ? retries : 0) + 1;
    s->phase = MOD_COND;
    mp__eng_fresh_arena(s);
    advance_conditions(e, i);
}
