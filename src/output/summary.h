/*
 * summary.h -- the end-of-run summary (DESIGN §5), always printed.
 *
 *   Module          Status     Duration  Instance  Start   End
 *   test            failed     0.3s      0         +1.2s   +1.5s
 *   build           succeeded  1.2s      0         +0.0s   +1.2s
 *   lint            skipped    -         -         -       -
 *
 *   test failed (exit 1)
 *     error: <error message, when there is one>
 *     | last lines of its log (mp_result.log_tail)
 *
 *   wall time 3.4s, module time 5.6s, speedup 1.65x, peak concurrency 3
 *   pipeline failed: 1 failed, 1 succeeded, 1 skipped
 *
 * Rows: failed and timed_out modules first, then the other modules that
 * ran, each group by start time (then name); modules that never ran last,
 * in pipeline order, with "-" for every time. Status is the report's
 * spelling (mp__status_name). Instance is the index of the instance that
 * ran the module, with the worker id in parentheses in distributed runs.
 * Start and End are offsets from the start of the run. The detail section
 * lists every failed or timed_out module: exit code (or signal), error
 * message and up to 20 last log lines. The numbers on the last lines come
 * from mp__metrics_compute() (metrics.h), like the report's. The verdict
 * line says "interrupted by SIGINT" when a signal stopped the run.
 *
 * Text in results is already masked by the engine; nothing is masked here.
 * mp__summary_write() writes it in pieces of about 64 KiB, each with one
 * write(2) loop, as it formats the rows.
 */
#ifndef MP_OUTPUT_SUMMARY_H
#define MP_OUTPUT_SUMMARY_H

#include "core/engine.h"
#include "core/strbuf.h"

/* Append the summary of `run` over validated pipeline p to sb. */
void mp__summary_format(const mp_pipeline *p, const mp_run *run, mp_strbuf *sb);
/* Write it to fd. Returns 0 or MP_EIO. */
int mp__summary_write(int fd, const mp_pipeline *p, const mp_run *run);

#endif
