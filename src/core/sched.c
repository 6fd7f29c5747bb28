/*
 * sched.c -- readiness, settling and stopping (see sched.h); what starts
 * among the ready modules is sched_pick.c.
 *
 * Counting readiness: each module of the run keeps two counters, its
 * required dependencies (deps) and its `after` modules that run and are
 * not terminal yet. When a module becomes terminal it is pushed on a
 * stack (`prop`), and draining the stack decrements the counters of its
 * successors (model `dependents`, and the reverse of `afters` built here).
 * A module whose deps counter reaches 0 is judged once ("deps_done"): it
 * settles (dependency_failed / skipped) or is marked SF_DEPS_OK and
 * becomes ready when its afters counter is 0 too. The stack instead of
 * recursion keeps a 100,000-long chain of settles off the C stack. Each
 * edge is looked at once per end of its source: O(modules + edges).
 *
 * Judging a module whose dependencies are all terminal: the first
 * dependency (in index = name order) that failed, timed out, was cancelled
 * or ended dependency_failed makes it dependency_failed; otherwise the
 * first skipped one makes it skipped; always_run modules run whatever
 * their dependencies came to. A dependency SKIPPED by the plan satisfies:
 * the plan already cascades --skip-module along depends_on, so a module
 * still planned to run past a plan skip is one a category filter meant to
 * keep (plan.h). Deciding only once every dependency is terminal makes the
 * outcome independent of the order in which dependencies end.
 *
 * Stopping (first failed/timed_out under on_failure stop, or
 * mp__sched_stop): one walk over `dependents` from every module that ended
 * failed, timed_out, dependency_failed or cancelled marks the waiting
 * modules downstream; these settle dependency_failed, in walk order so the
 * reason names a dependency whose status is already final; every other
 * waiting module that is not always_run settles cancelled with the stop
 * reason. The walk does not pass through always_run modules: they will
 * run, and what is behind them is judged on their own outcome (and, while
 * stopping, cancelled). The walk happens once per run: O(modules + edges).
 *
 * Critical path: cp(i) = expected(i) + max over successors (deps and
 * afters) of cp, over a topological order (Kahn) computed here; modules
 * that do not run (plan SKIP / EXCLUDED) count 0 ms of their own.
 */
#include "core/sched_int.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_EXPECTED_MS 1000
#define CP_MAX              ((int64_t)1 << 60)

/* One pass over the modules (a module struct is large and the walks below
 * go over successors in an order unrelated to the modules' places in
 * memory): the flags, the dependents (model `dependents`) as one array
 * (CSR), the reverse of `afters` (CSR), each module's in-degree and
 * priority. */
static void read_modules(mp_sched *s, const mp_plan *plan, uint32_t *indeg, uint8_t *prio)
{
    const mp_pipeline *p = s->p;
    size_t n = s->n, cap = n ? 4 * n : 1, ne = 0, na = 0, capa = 0;
    s->dsucc_off = mp__xmalloc(mp__xmul(n + 1, sizeof(size_t)));
    s->dsucc = mp__xmalloc(mp__xmul(cap, sizeof(uint32_t)));
    s->asucc_off = mp__xcalloc(n + 1, sizeof(size_t));
    uint32_t(*after_edges)[2] = NULL; /* (after, module) */
    s->dsucc_off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const mp_module *m = p->modules.v[i];
        mp_plan_state ps = plan->entries[i].state;
        sched_mod *sm = &s->mod[i];
        sm->status = MP_STATUS_PENDING;
        if (ps != MP_PLAN_EXCLUDED) sm->flags |= SF_IN, s->in_run++;
        if (ps == MP_PLAN_SKIP) sm->flags |= SF_PLAN_SKIP;
        if (m->always_run) sm->flags |= SF_ALWAYS;
        if (m->exclusive) sm->flags |= SF_EXCL;
        prio[i] = (uint8_t)m->priority;
        indeg[i] = (uint32_t)(m->deps.n + m->afters.n);
        if (ne + m->dependents.n > cap) {
            while (ne + m->dependents.n > cap)
                cap *= 2;
            s->dsucc = mp__xrealloc(s->dsucc, mp__xmul(cap, sizeof(uint32_t)));
        }
        for (size_t k = 0; k < m->dependents.n; k++)
            s->dsucc[ne++] = (uint32_t)m->dependents.v[k];
        s->dsucc_off[i + 1] = ne;
        for (size_t k = 0; k < m->afters.n; k++) {
            if (na == capa) {
                capa = capa ? 2 * capa : 64;
                after_edges = mp__xrealloc(after_edges, mp__xmul(capa, sizeof(*after_edges)));
            }
            after_edges[na][0] = (uint32_t)m->afters.v[k];
            after_edges[na++][1] = (uint32_t)i;
            s->asucc_off[m->afters.v[k] + 1]++;
        }
    }
    for (size_t i = 0; i < n; i++)
        s->asucc_off[i + 1] += s->asucc_off[i];
    s->asucc = mp__xmalloc(mp__xmul(na ? na : 1, sizeof(uint32_t)));
    size_t *fill = mp__xmalloc(mp__xmul(n ? n : 1, sizeof(size_t)));
    if (n) memcpy(fill, s->asucc_off, n * sizeof(size_t));
    for (size_t e = 0; e < na; e++) /* in module order, as a pass over modules would */
        s->asucc[fill[after_edges[e][0]]++] = after_edges[e][1];
    free(fill);
    free(after_edges);
}

/* Predecessors that will run, counted from the successor arrays: plan
 * skips are terminal now, and excluded modules never run. */
static void count_waits(mp_sched *s)
{
    for (size_t u = 0; u < s->n; u++) {
        if ((s->mod[u].flags & (SF_IN | SF_PLAN_SKIP)) != SF_IN) continue;
        for (size_t k = s->dsucc_off[u]; k < s->dsucc_off[u + 1]; k++) {
            sched_mod *j = &s->mod[s->dsucc[k]];
            if ((j->flags & (SF_IN | SF_PLAN_SKIP)) == SF_IN) j->wait_deps++;
        }
        for (size_t k = s->asucc_off[u]; k < s->asucc_off[u + 1]; k++) {
            sched_mod *j = &s->mod[s->asucc[k]];
            if ((j->flags & (SF_IN | SF_PLAN_SKIP)) == SF_IN) j->wait_afters++;
        }
    }
}

/* indeg (consumed) and prio from read_modules(). */
static void critical_paths(mp_sched *s, const int64_t *expected, uint32_t *indeg,
                           const uint8_t *prio)
{
    size_t n = s->n, head = 0, tail = 0;
    size_t *order = mp__xmalloc(mp__xmul(n ? n : 1, sizeof(size_t)));
    for (size_t i = 0; i < n; i++)
        if (!indeg[i]) order[tail++] = i;
    while (head < tail) {
        size_t u = order[head++];
        for (size_t k = s->dsucc_off[u]; k < s->dsucc_off[u + 1]; k++)
            if (--indeg[s->dsucc[k]] == 0) order[tail++] = s->dsucc[k];
        for (size_t k = s->asucc_off[u]; k < s->asucc_off[u + 1]; k++)
            if (--indeg[s->asucc[k]] == 0) order[tail++] = s->asucc[k];
    }
    for (size_t i = 0; i < n; i++) {
        int64_t e = 0;
        if ((s->mod[i].flags & SF_IN) && !(s->mod[i].flags & SF_PLAN_SKIP)) {
            e = expected ? expected[i] : DEFAULT_EXPECTED_MS;
            if (e < 0) e = 0;
            if (e > CP_MAX) e = CP_MAX;
        }
        s->cp[i] = e; /* modules left on a cycle (never after validation) keep this */
    }
    for (size_t t = tail; t-- > 0;) {
        size_t u = order[t];
        int64_t best = 0;
        for (size_t k = s->dsucc_off[u]; k < s->dsucc_off[u + 1]; k++)
            if (s->cp[s->dsucc[k]] > best) best = s->cp[s->dsucc[k]];
        for (size_t k = s->asucc_off[u]; k < s->asucc_off[u + 1]; k++)
            if (s->cp[s->asucc[k]] > best) best = s->cp[s->asucc[k]];
        s->cp[u] = s->cp[u] + best > CP_MAX ? CP_MAX : s->cp[u] + best;
    }
    for (size_t i = 0; i < n; i++)
        s->rank[i] = ((uint64_t)prio[i] << 61) | (uint64_t)s->cp[i];
    free(order);
}

static void settled_push(mp_sched *s, size_t i, mp_status st, const char *reason)
{
    int c = s->cur;
    if (s->nsettled[c] == s->capsettled[c]) {
        s->capsettled[c] = s->capsettled[c] ? 2 * s->capsettled[c] : 64;
        s->settled[c] = mp__xrealloc(s->settled[c], mp__xmul(s->capsettled[c], sizeof(mp_settled)));
    }
    s->settled[c][s->nsettled[c]++] = (mp_settled){.module = i, .status = st, .reason = reason};
}

/* Module i (pending, never started) ends with st. */
static void settle(mp_sched *s, size_t i, mp_status st, const char *reason)
{
    s->mod[i].status = st;
    s->terminal++;
    settled_push(s, i, st, reason);
    mp__sched_forget(s, i);
    s->prop[s->nprop++] = i;
}

/* The reason a dependent gives when dependency u (terminal) stops it. */
static const char *dep_reason(mp_sched *s, size_t u)
{
    if (s->dep_reason[u]) return s->dep_reason[u];
    const char *name = s->p->modules.v[u]->name, *what;
    switch (s->mod[u].status) {
    case MP_STATUS_SKIPPED:
        what = "was skipped";
        break;
    case MP_STATUS_FAILED:
        what = "failed";
        break;
    case MP_STATUS_TIMED_OUT:
        what = "timed out";
        break;
    case MP_STATUS_CANCELLED:
        what = "was cancelled";
        break;
    case MP_STATUS_DEPENDENCY_FAILED:
        what = "did not run (upstream failure)";
        break;
    default:
        what = "did not succeed";
        break;
    }
    s->dep_reason[u] = mp__arena_printf(s->arena, "dependency \"%s\" %s", name, what);
    return s->dep_reason[u];
}

/* Every required dependency of j (pending) is terminal: judge it. */
static void deps_done(mp_sched *s, size_t j)
{
    long fail = -1, skip = -1;
    /* Every counted dependency ended through drain(), which flags j when
     * one did not satisfy it: without the flag the scan finds nothing. */
    if (s->mod[j].flags & SF_DEP_BAD) {
        const mp_module *m = s->p->modules.v[j];
        for (size_t k = 0; k < m->deps.n && fail < 0; k++) {
            size_t u = m->deps.v[k];
            if (!(s->mod[u].flags & SF_IN) || (s->mod[u].flags & SF_PLAN_SKIP)) continue;
            mp_status st = s->mod[u].status;
            if (mp__status_satisfies(st)) continue;
            if (st == MP_STATUS_SKIPPED) {
                if (skip < 0) skip = (long)u;
            } else {
                fail = (long)u;
            }
        }
    }
    if (!(s->mod[j].flags & SF_ALWAYS)) {
        if (fail >= 0) {
            settle(s, j, MP_STATUS_DEPENDENCY_FAILED, dep_reason(s, (size_t)fail));
            return;
        }
        if (skip >= 0) {
            settle(s, j, MP_STATUS_SKIPPED, dep_reason(s, (size_t)skip));
            return;
        }
        if (s->stopping) { /* a stop settles every waiting module; kept for safety */
            settle(s, j, MP_STATUS_CANCELLED, s->stop_reason);
            return;
        }
    }
    s->mod[j].flags |= SF_DEPS_OK;
    if (s->mod[j].wait_afters == 0) mp__sched_push_ready(s, j);
}

/* Successors of the modules that became terminal. */
static void drain(mp_sched *s)
{
    while (s->nprop) {
        size_t u = s->prop[--s->nprop];
        /* u counts in its dependents' wait_deps only when it will run. */
        uint8_t bad = (s->mod[u].flags & (SF_IN | SF_PLAN_SKIP)) == SF_IN &&
                              !mp__status_satisfies(s->mod[u].status)
                          ? SF_DEP_BAD
                          : 0;
        for (size_t k = s->dsucc_off[u]; k < s->dsucc_off[u + 1]; k++) {
            size_t j = s->dsucc[k];
            if (!(s->mod[j].flags & SF_IN) || s->mod[j].status != MP_STATUS_PENDING) continue;
            s->mod[j].flags |= bad;
            if (--s->mod[j].wait_deps == 0) deps_done(s, j);
        }
        for (size_t k = s->asucc_off[u]; k < s->asucc_off[u + 1]; k++) {
            size_t j = s->asucc[k];
            if (!(s->mod[j].flags & SF_IN) || s->mod[j].status != MP_STATUS_PENDING) continue;
            if (--s->mod[j].wait_afters == 0 && (s->mod[j].flags & SF_DEPS_OK)) mp__sched_push_ready(s, j);
        }
    }
}

static bool waiting(const mp_sched *s, size_t j)
{
    return (s->mod[j].flags & SF_IN) && s->mod[j].status == MP_STATUS_PENDING;
}

static void stop_run(mp_sched *s, const char *reason)
{
    size_t n = s->n, head = 0, tail = 0, seeds;
    s->stopping = true;
    s->stop_reason = reason;
    size_t *queue = mp__xmalloc(mp__xmul(n ? n : 1, sizeof(size_t)));
    size_t *cause = mp__xmalloc(mp__xmul(n ? n : 1, sizeof(size_t)));
    for (size_t i = 0; i < n; i++)
        if ((s->mod[i].flags & SF_IN) && mp__status_terminal(s->mod[i].status) &&
            mp__status_is_failure(s->mod[i].status))
            queue[tail++] = i;
    seeds = tail;
    while (head < tail) {
        size_t u = queue[head];
        for (size_t k = s->dsucc_off[u]; k < s->dsucc_off[u + 1]; k++) {
            size_t j = s->dsucc[k];
            if (!waiting(s, j) || (s->mod[j].flags & (SF_ALWAYS | SF_MARK))) continue;
            s->mod[j].flags |= SF_MARK;
            cause[j] = queue[head];
            queue[tail++] = j;
        }
        head++;
    }
    for (size_t q = seeds; q < tail; q++) {
        size_t j = queue[q];
        s->mod[j].flags &= (uint8_t)~SF_MARK;
        settle(s, j, MP_STATUS_DEPENDENCY_FAILED, dep_reason(s, cause[j]));
    }
    for (size_t j = 0; j < n; j++)
        if (waiting(s, j) && !(s->mod[j].flags & SF_ALWAYS)) settle(s, j, MP_STATUS_CANCELLED, reason);
    free(queue);
    free(cause);
}

mp_sched *mp__sched_new(const mp_pipeline *p, const mp_plan *plan, const mp_sched_opts *o)
{
    if (!p->validated || plan->n != p->modules.n)
        mp__die("sched: pipeline not validated or plan of another pipeline");
    size_t n = p->modules.n;
    if (n >= UINT32_MAX) mp__die("sched: too many modules (%zu)", n);
    size_t n1 = n ? n : 1;
    mp_sched *s = mp__xcalloc(1, sizeof(*s));
    s->p = p;
    s->n = n;
    s->on_failure = o ? o->on_failure : MP_ON_FAILURE_STOP;
    s->arena = mp__arena_new();
    s->mod = mp__xcalloc(n1, sizeof(*s->mod));
    s->cp = mp__xcalloc(n1, sizeof(*s->cp));
    s->rank = mp__xcalloc(n1, sizeof(*s->rank));
    s->woken_from = mp__xmalloc(mp__xmul(n1, sizeof(*s->woken_from)));
    s->dep_reason = mp__xcalloc(n1, sizeof(*s->dep_reason));
    s->prop = mp__xmalloc(mp__xmul(n1, sizeof(*s->prop)));
    for (size_t i = 0; i < n; i++)
        s->woken_from[i] = -1;
    uint32_t *indeg = mp__xmalloc(mp__xmul(n1, sizeof(uint32_t)));
    uint8_t *prio = mp__xmalloc(n1);
    read_modules(s, plan, indeg, prio);
    count_waits(s);
    critical_paths(s, o ? o->expected_ms : NULL, indeg, prio);
    free(indeg);
    free(prio);
    mp__sched_build_resources(s);

    for (size_t i = 0; i < n; i++) {
        if (!(s->mod[i].flags & SF_PLAN_SKIP)) continue;
        const char *r = plan->entries[i].reason;
        s->mod[i].status = MP_STATUS_SKIPPED;
        s->terminal++;
        settled_push(s, i, MP_STATUS_SKIPPED,
                     mp__arena_strdup(s->arena, r ? r : "skipped by the plan"));
    }
    for (size_t i = 0; i < n; i++)
        if (waiting(s, i) && s->mod[i].wait_deps == 0) deps_done(s, i);
    drain(s);
    return s;
}

void mp__sched_free(mp_sched *s)
{
    if (!s) return;
    mp__sched_release_resources(s);
    mp__sheap_release(&s->ready);
    mp__sheap_release(&s->excl);
    free(s->mod);
    free(s->cp);
    free(s->rank);
    free(s->asucc_off);
    free(s->asucc);
    free(s->dsucc_off);
    free(s->dsucc);
    free(s->woken_from);
    free(s->dep_reason);
    free(s->prop);
    free(s->settled[0]);
    free(s->settled[1]);
    mp__arena_free(s->arena);
    free(s);
}

void mp__sched_done(mp_sched *s, size_t i, mp_status status)
{
    if (i >= s->n || s->mod[i].status != MP_STATUS_RUNNING)
        mp__die("sched: done(%zu) for a module that is not running", i);
    if (!mp__status_terminal(status))
        mp__die("sched: done(%zu) with non-terminal status %s", i, mp__status_name(status));
    mp__sched_free_held(s, i);
    s->mod[i].status = status;
    s->terminal++;
    s->prop[s->nprop++] = i;
    if ((status == MP_STATUS_FAILED || status == MP_STATUS_TIMED_OUT) &&
        s->on_failure == MP_ON_FAILURE_STOP && !s->stopping)
        stop_run(s,
                 mp__arena_printf(s->arena, "run stopped after \"%s\" %s", s->p->modules.v[i]->name,
                                  status == MP_STATUS_FAILED ? "failed" : "timed out"));
    drain(s);
}

void mp__sched_stop(mp_sched *s)
{
    if (s->stopping) return;
    stop_run(s, "run interrupted");
    drain(s);
}

void mp__sched_abort(mp_sched *s)
{
    if (!s->stopping) stop_run(s, "run interrupted");
    for (size_t j = 0; j < s->n; j++)
        if (waiting(s, j)) settle(s, j, MP_STATUS_CANCELLED, "run interrupted");
    drain(s);
}

int mp__sched_stopping(const mp_sched *s)
{
    return s->stopping;
}

const mp_settled *mp__sched_take_settled(mp_sched *s, size_t *n)
{
    int c = s->cur;
    *n = s->nsettled[c];
    s->cur = c ^ 1;
    s->nsettled[s->cur] = 0;
    return s->settled[c];
}

int mp__sched_finished(const mp_sched *s)
{
    return s->terminal == s->in_run;
}

mp_status mp__sched_status(const mp_sched *s, size_t i)
{
    return i < s->n ? s->mod[i].status : MP_STATUS_PENDING;
}

int64_t mp__sched_critical_ms(const mp_sched *s, size_t i)
{
    return i < s->n ? s->cp[i] : 0;
}
