/*
 * report.h -- the JSON run report (--report FILE, DESIGN §5).
 *
 *   {
 *     "schema": "modpipe.report/v1",
 *     "run_id": "1234-1",
 *     "pipeline": {"name": "example", "hash": "<hex sha256>"},
 *     "status": "failed",
 *     "started_at": "2026-11-26T22:44:10.123Z",
 *     "ended_at": "2026-11-26T22:44:13.523Z",
 *     "duration_ms": 3400,
 *     "instances": [{"index": 0, "capabilities": {"os": "linux", "arch": "x86_64"},
 *                    "hostname": "ci-1"}],
 *     "modules": [{"module": "build", "status": "succeeded", "attempts": 1,
 *                  "exit_code": 0, "instance": 0, "worker": null,
 *                  "started_at": "...", "ended_at": "...", "duration_ms": 1200,
 *                  "outputs": {"version": "1.2.3"}, "artifacts": [],
 *                  "skip_reason": null, "error": null}, ...],
 *     "metrics": {"wall_ms": 3400, "module_ms_total": 5600, "speedup": 1.65,
 *                 "peak_concurrency": 3}
 *   }
 *
 * Conventions: times are ISO-8601 UTC with milliseconds; a value that does
 * not apply is null (exit_code of a module that never ran or was killed by a
 * signal, instance of a module that never ran, worker in a local run,
 * started_at/ended_at of a module that never ran, skip_reason of a module
 * that ran normally). "error" is {"message", "log_tail"} (either may be
 * null) for failed, timed_out and ignored_failure modules and for any
 * result that carries an error message; null otherwise. "status" is the
 * verdict ("succeeded" or "failed"), or "cancelled" when a signal stopped
 * the run. Modules are in pipeline order (sorted by name). "metrics" comes
 * from mp__metrics_compute() (metrics.h), the same numbers as the summary;
 * "duration_ms" equals metrics.wall_ms. "artifacts" is [] until results
 * carry artifacts (mp_result has no artifact list yet).
 *
 * When the caller names no instances, the report lists this machine as
 * instance 0 (os and arch from uname(2), hostname from gethostname(2)).
 *
 * The file is written atomically: to "<path>.tmp.<pid>" in the same
 * directory, fsync'ed, then renamed over path; on failure path is
 * untouched and the temporary file removed. Text in results is already
 * masked by the engine.
 */
#ifndef MP_OUTPUT_REPORT_H
#define MP_OUTPUT_REPORT_H

#include "core/engine.h"

#include <stddef.h>

#define MP_REPORT_SCHEMA "modpipe.report/v1"

typedef struct mp_report_pair {
    const char *key, *value;
} mp_report_pair;

typedef struct mp_report_instance {
    int index;
    const char *hostname;               /* NULL -> null */
    const mp_report_pair *capabilities; /* os and arch included */
    size_t ncapabilities;
} mp_report_instance;

typedef struct mp_report_info {
    const char *run_id;
    const mp_report_instance *instances; /* NULL/0: this machine as instance 0 */
    size_t ninstances;
} mp_report_info;

/* The report as JSON text (indented, ends with "\n"); the caller frees it. */
char *mp__report_dumps(const mp_pipeline *p, const mp_run *run, const mp_report_info *info);
/* Write the report to path atomically. Returns 0 or MP_EIO (err names the
 * file and the reason). */
int mp__report_write(const char *path, const mp_pipeline *p, const mp_run *run,
                     const mp_report_info *info, mp_error *err);

#endif
