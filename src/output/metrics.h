/*
 * metrics.h -- the numbers that describe a finished run (DESIGN §5).
 *
 * The end-of-run summary and the JSON report both read a run through
 * mp__metrics_compute(), never on their own, so what the terminal says and
 * what the report says always agree:
 *   - wall_ms: ended_at - started_at of the run (0 if the clock went back);
 *   - module_ms_total: the sum of every module's duration_ms (time spent
 *     running, over all attempts; modules that never ran add 0);
 *   - speedup: module_ms_total / wall_ms, rounded to two decimals (0 when
 *     wall_ms is 0), stored rounded so that "1.65x" and 1.65 are the same;
 *   - peak_concurrency: the engine's own count (mp_run.peak_concurrency)
 *     when it has one, else the largest number of modules whose
 *     [started_at, ended_at) intervals overlap (results from other
 *     instances carry only those timestamps);
 *   - by_status: how many modules ended with each status.
 */
#ifndef MP_OUTPUT_METRICS_H
#define MP_OUTPUT_METRICS_H

#include "core/engine.h"
#include "core/result.h"

#include <stdint.h>

#define MP_STATUS_COUNT (MP_STATUS_CANCELLED + 1)

typedef struct mp_metrics {
    int64_t wall_ms;
    int64_t module_ms_total;
    double speedup;
    int peak_concurrency;
    size_t by_status[MP_STATUS_COUNT];
} mp_metrics;

void mp__metrics_compute(const mp_run *run, mp_metrics *m);

/* Did module result r run at all (at least one attempt started)? */
int mp__result_ran(const mp_result *r);

#endif
