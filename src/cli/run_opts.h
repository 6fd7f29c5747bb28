/*
 * run_opts.h -- what `modpipe run` was asked to do: its options resolved
 * from the command line, the environment and the pipeline's own options,
 * before anything runs (DESIGN §1).
 *
 * Precedence, for each setting:
 *   parallelism  -j/--parallelism > MODPIPE_PARALLELISM > options.parallelism
 *                > the number of CPUs. A whole number 1..MP_RUN_MAX_PARALLELISM
 *                written in decimal digits only; anything else (0, -1, "4x",
 *                " 4", "") is a usage error naming where it came from.
 *   on_failure   --on-failure stop|continue > options.on_failure
 *   report       --report FILE > MODPIPE_REPORT (non-empty) > none
 *   artifacts    --artifacts URL > MODPIPE_ARTIFACTS (non-empty) > none (the
 *                run then uses file://<state dir>/artifacts; docs/artifacts.md)
 *   progress     --progress auto|always|never (default auto)
 *   output       --output grouped|stream (default grouped)
 *   log level    -q/-v > MODPIPE_LOG_LEVEL > info (args.h)
 *   run id       the one resolver, dist/runid.h: --run-id > MODPIPE_RUN_ID >
 *                CI variables; when none of them gives one, a local run
 *                (and --local-instances) generates
 *                "local-<YYYYmmddTHHMMSSZ>-<pid>" (UTC) and a distributed
 *                instance is a usage error. A given run id is 1..128
 *                characters of [A-Za-z0-9._:+=@-].
 *   instances    --instances N > MODPIPE_INSTANCES > 1 (1..MP_RUN_MAX_INSTANCES)
 *   index        --instance-index I > MODPIPE_INSTANCE_INDEX > 0; I < instances
 *   coordinator  --coordinator URL > MODPIPE_COORDINATOR; required when
 *                instances > 1, refused when instances is 1 (it would do
 *                nothing); `memory:` is refused (in-process only, DESIGN
 *                §7.9); an unknown scheme lists the known ones
 *                (coord/coord.h). Messages show it with the password
 *                as *** (dist/url.h).
 *   capabilities automatic os/arch + MODPIPE_CAPABILITIES + --capability K=V
 *                (dist/caps.h); --capability is refused in a local run
 *                (nothing is placed there)
 *   local        --local-instances N (1..MP_RUN_MAX_LOCAL_INSTANCES): this
 *                process starts the master and N-1 workers (local_instances.h);
 *                refused together with --instances or --instance-index;
 *                --coordinator is then optional (a private redis-server
 *                otherwise).
 * Environment variables set to the empty string count as unset.
 *
 * Errors are MP_EUSAGE with a message in the house style (lower-case, no
 * final period, a did-you-mean for near misses); the caller prefixes
 * "modpipe run: ".
 *
 * Ownership: strings in mp_run_opts live in the arena given to resolve()
 * or point into args / the environment.
 */
#ifndef MP_CLI_RUN_OPTS_H
#define MP_CLI_RUN_OPTS_H

#include "cli/args.h"
#include "core/arena.h"
#include "core/model.h"
#include "core/plan.h"
#include "output/console.h"

#include <stdint.h>

#define MP_RUN_MAX_PARALLELISM 4096
#define MP_RUN_MAX_RUN_ID      128
#define MP_RUN_MAX_INSTANCES   1024
#define MP_RUN_MAX_LOCAL_INSTANCES 64

typedef enum mp_progress_mode {
    MP_PROGRESS_AUTO = 0,
    MP_PROGRESS_ALWAYS,
    MP_PROGRESS_NEVER,
} mp_progress_mode;

typedef struct mp_run_opts {
    int parallelism;
    const char *parallelism_from; /* "--parallelism", "MODPIPE_PARALLELISM",
                                     "options.parallelism" or "CPUs" */
    mp_on_failure on_failure;
    int on_failure_given; /* --on-failure was on the command line */
    const char *report;   /* NULL: no report */
    const char *artifacts; /* artifact store URL; NULL: the local default */
    mp_progress_mode progress;
    mp_output_mode output;
    mp_log_level log_level;
    const char *run_id;
    int run_id_generated;
    const char *run_id_from; /* "--run-id", "MODPIPE_RUN_ID", a CI, or "generated" */
    mp_filters filters;      /* lists from the command line (plan.h) */

    /* Distributed runs (DESIGN §1, §3). */
    int instances;              /* 1: a local run */
    const char *instances_from; /* "--instances", "MODPIPE_INSTANCES" or NULL */
    int instance_index;         /* 0 = master */
    const char *coordinator;    /* URL, NULL for none */
    const char *coordinator_shown; /* the URL with its password as *** */
    const char *capabilities;   /* canonical, os/arch included */
    int capabilities_given;     /* --capability on the command line */
    int local_instances;        /* --local-instances N, 0 when not given */
} mp_run_opts;

/* Resolve the options from parsed args (the run command's table) and the
 * environment env (an environ-style array), before the pipeline is read,
 * so a bad option is reported whatever the file holds. `now_ms` (wall
 * clock) and `pid` make the generated run id. Settings that fall back on
 * the pipeline are left for mp__run_opts_finish (parallelism 0).
 * Returns 0 or MP_EUSAGE with err filled. */
int mp__run_opts_resolve(const mp_args *a, char *const *env, int64_t now_ms, long pid,
                         mp_arena *arena, mp_run_opts *o, mp_error *err);
/* Fill in what the command line left to the pipeline's options (and the
 * number of CPUs), once p is loaded and validated. */
void mp__run_opts_finish(mp_run_opts *o, const mp_pipeline *p);

/* Parse a parallelism value (see above). Returns 0 or MP_EUSAGE. */
int mp__run_parse_parallelism(const char *s, int *out);

/* Parse a whole number min..max written in decimal digits only. */
int mp__run_parse_count(const char *s, int min, int max, int *out);

/* Is this instance part of a distributed run (instances > 1)? */
static inline int mp__run_opts_distributed(const mp_run_opts *o)
{
    return o->instances > 1;
}

/* Is s an acceptable run id? */
int mp__run_id_valid(const char *s);

#endif
