/*
 * outfmt.h -- small pieces shared by the run's text outputs (console,
 * progress, summary) and the report: writing a buffer to an fd in one
 * write(2) loop, and the spellings of durations, offsets and timestamps, so
 * every output shows a given time the same way.
 *
 * Durations (mp__fmt_duration): "0.3s", "12.0s" below a minute (tenths,
 * rounded), "1m02s" below an hour, "2h05m" beyond; a negative value is "-".
 */
#ifndef MP_OUTPUT_OUTFMT_H
#define MP_OUTPUT_OUTFMT_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for any mp__fmt_duration / mp__fmt_iso8601 result. */
#define MP_FMT_BUFSZ 96

/* Write all n bytes to fd, continuing after short writes and EINTR.
 * Returns 0 or the errno of the failed write. */
int mp__write_all(int fd, const void *buf, size_t n);

/* A duration in milliseconds, as above, into buf (MP_FMT_BUFSZ); returns buf. */
char *mp__fmt_duration(char *buf, int64_t ms);
/* Milliseconds since the epoch as ISO-8601 UTC with milliseconds,
 * "2026-11-26T22:44:10.123Z"; returns buf. */
char *mp__fmt_iso8601(char *buf, int64_t epoch_ms);

/* Display columns of a UTF-8 string (code points; no wide characters in
 * module names), and the byte length of its longest prefix that fits in
 * `cols` columns without cutting a code point. */
size_t mp__utf8_cols(const char *s, size_t n);
size_t mp__utf8_prefix(const char *s, size_t n, size_t cols);

/* "SIGINT", "SIGTERM", ... or "signal N". */
const char *mp__signal_name(char *buf, size_t size, int signo);

#endif
