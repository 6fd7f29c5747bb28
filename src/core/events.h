/*
 * events.h -- what the engine tells the outside world while a run goes on.
 *
 * The engine calls a sink (a static const vtable plus its data, like the
 * store and coordinator backends) from its own loop thread only, one call
 * at a time, so sinks need no locks. Every text handed to a sink has
 * already been through the secret masker. A sink must not block for long:
 * the engine's deadlines run meanwhile. Sinks: src/output/ (grouped, stream,
 * progress, summary, report).
 */
#ifndef MP_CORE_EVENTS_H
#define MP_CORE_EVENTS_H

#include "core/model.h"
#include "core/result.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mp_run_info {
    const mp_pipeline *pipeline;
    const char *run_id;
    int instance_index;
    int parallelism;
    int64_t started_at; /* ms since the epoch */
    const int64_t *expected_ms; /* per module, from history (1000 unknown) */
    /* Set by the engine: it calls `flush` before every wait, so a sink may
     * hold what it writes until then. */
    int flushes;
} mp_run_info;

typedef struct mp_sink_vtable {
    const char *name;
    void (*run_started)(void *data, const mp_run_info *info);
    /* Module i began attempt `attempt` (1-based). */
    void (*module_started)(void *data, size_t i, int attempt);
    /* Masked bytes the module wrote (stdout and stderr, in order). */
    void (*module_output)(void *data, size_t i, const char *bytes, size_t n);
    /* Module i reached a terminal status (run or not). */
    void (*module_finished)(void *data, size_t i, const mp_result *r);
    /* Called at most every 100 ms while modules run (progress redraws). */
    void (*tick)(void *data, int64_t now_ms);
    /* The run is over; results[i] for every module of the pipeline. */
    void (*run_finished)(void *data, const mp_result *results, mp_status verdict);
    /* The engine is about to wait (for modules, or before it ends the
     * run): write out what is held (see mp_run_info.flushes). */
    void (*flush)(void *data);
} mp_sink_vtable;

typedef struct mp_sink {
    const mp_sink_vtable *vt;
    void *data;
} mp_sink;

#endif
