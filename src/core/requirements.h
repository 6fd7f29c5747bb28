/*
 * requirements.h -- the pipeline's `requirements`, checked before anything
 * runs (DESIGN §2): any unmet one means nothing runs and modpipe exits 2.
 *
 *   {env: X}        X set and non-empty (with equals: set to exactly that)
 *   {file: PATH}    PATH exists, relative to the workspace
 *   {command: CMD}  `/bin/sh -c CMD` in the workspace exits 0 within
 *                   MP_COND_COMMAND_TIMEOUT_MS (30 s); one at a time
 * Every requirement is checked, so one report lists everything missing.
 */
#ifndef MP_CORE_REQUIREMENTS_H
#define MP_CORE_REQUIREMENTS_H

#include "core/model.h"

/* Returns 0 when every requirement holds, else MP_EINVALID with err: the
 * message "requirement not met: env \"NPM_TOKEN\" is not set" (several
 * joined with "; "), where = "file:line:col" of the first unmet one. */
int mp__requirements_check(const mp_pipeline *p, const char *workspace, char *const *environ,
                           mp_error *err);

#endif
