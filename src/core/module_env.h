/*
 * module_env.h -- what a module process is given: its environment, its
 * working directory, and its strings with `${{ }}` expressions resolved.
 *
 * Environment, later entries overriding earlier ones (DESIGN §2):
 *   1. modpipe's own environment, except the pipeline's secrets that this
 *      module does not declare (a secret reaches only the modules that ask
 *      for it) and inherited MODPIPE_DEP_* variables (from an outer run);
 *   2. the pipeline's env, then the module's env (expressions resolved);
 *   3. MODPIPE_MODULE, MODPIPE_OUTPUT, MODPIPE_RUN_ID,
 *      MODPIPE_INSTANCE_INDEX, MODPIPE_ATTEMPT, MODPIPE_WORKSPACE;
 *   4. MODPIPE_DEP_<MODULE>_<KEY> for every output of every required
 *      dependency (names upper-cased, anything but [A-Z0-9] turned to "_");
 *   5. the module's declared secrets, with their values from modpipe's
 *      environment. A secret that is unset or empty there is an error.
 *
 * Expressions: matrix.K (this instance's value), modules.M.outputs.K (the
 * dependency's output; "" when it set no such output), modules.M.status
 * (its status name), instance.index, run.id. M is a full name or the plain
 * name of a module with one instance. An expression that names no module
 * is left as written (validation reports those); "$${{" becomes "${{".
 *
 * Everything returned lives in the arena passed in (the engine uses one
 * arena per attempt, freed when the attempt ends).
 */
#ifndef MP_CORE_MODULE_ENV_H
#define MP_CORE_MODULE_ENV_H

#include "core/arena.h"
#include "core/model.h"
#include "core/result.h"

typedef struct mp_module_env {
    const mp_pipeline *p;
    const mp_module *m;
    const mp_result *results; /* by module index; dependencies are terminal */
    const char *run_id;       /* may be NULL: "" */
    int instance_index;
    int attempt;             /* 1-based */
    const char *workspace;   /* absolute */
    const char *output_path; /* $MODPIPE_OUTPUT */
    char *const *environ;    /* modpipe's environment, "K=V", NULL-terminated */
} mp_module_env;

/* s with its expressions resolved (see above). NULL gives NULL. */
char *mp__module_subst(mp_arena *a, const mp_module_env *e, const char *s);

/* The complete environment ("K=V" strings, NULL-terminated) in *envp.
 * Returns 0, or MP_ENOENT with err naming the missing secret ("secret
 * \"NPM_TOKEN\" of module \"publish\" is not set in the environment"). */
int mp__module_env_build(mp_arena *a, const mp_module_env *e, const char ***envp, mp_error *err);

/* The module's working directory: working_dir (resolved) relative to the
 * workspace, or as is when absolute; the workspace when unset. */
const char *mp__module_workdir(mp_arena *a, const mp_module_env *e);

/* "test[os=linux]" -> "TEST_OS_LINUX_": upper-case, [^A-Z0-9] -> "_". */
char *mp__env_name_part(mp_arena *a, const char *s);

/* Value of `name` in environ (NULL when absent). */
const char *mp__environ_get(char *const *environ, const char *name);

#endif
