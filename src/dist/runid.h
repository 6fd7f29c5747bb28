/*
 * runid.h -- the one run-id resolver (DESIGN §3.2). Every component that
 * needs the run id (coordinator keys, artifact keys, MODPIPE_RUN_ID of a
 * module) gets it from here, so the instances of a run always meet.
 *
 * Order: --run-id > MODPIPE_RUN_ID > CI variables, first found of
 *   GitHub Actions  GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT (attempt 1 if unset)
 *   GitLab CI       CI_PIPELINE_ID
 *   Azure Pipelines BUILD_BUILDID
 *   Buildkite       BUILDKITE_BUILD_ID
 *   CircleCI        CIRCLE_WORKFLOW_ID
 *   Jenkins         BUILD_TAG
 * > error (MP_EUSAGE, exit 2). Never a commit SHA, never random. An empty
 * variable counts as unset.
 *
 * A run id is 1..MP_RUN_ID_MAX bytes of [A-Za-z0-9._:@+=-] (it becomes
 * part of Redis keys inside a {hash tag} and of object-store paths). An
 * id given explicitly (flag or MODPIPE_RUN_ID) that breaks this is
 * refused; one derived from CI variables has every other byte replaced by
 * '_' (deterministic, so every instance derives the same id; Jenkins'
 * BUILD_TAG may contain spaces) and is refused only when too long.
 *
 * Pure apart from the env lookup it is given; thread-safe if that is.
 */
#ifndef MP_DIST_RUNID_H
#define MP_DIST_RUNID_H

#include "modpipe.h"

#include <stdbool.h>

#define MP_RUN_ID_MAX 128

/* Value of environment variable `name`, or NULL. */
typedef const char *(*mp_env_lookup)(const char *name, void *data);

/* getenv(3) as an mp_env_lookup (data unused). */
const char *mp__env_getenv(const char *name, void *data);

/* Resolve the run id. flag: the --run-id value or NULL. On success `out`
 * holds the id and *source (when not NULL) a static description of where
 * it came from ("--run-id", "MODPIPE_RUN_ID", "GitHub Actions
 * (GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT)" ...). */
int mp__runid_resolve(const char *flag, mp_env_lookup env, void *env_data,
                      char out[MP_RUN_ID_MAX + 1], const char **source, mp_error *err);

/* 0 when `id` is a valid run id, else MP_EINVAL naming the bad byte. */
int mp__runid_check(const char *id, mp_error *err);

#endif
