/*
 * clock.h -- monotonic milliseconds and deadlines.
 *
 * Every blocking call in modpipe takes a deadline: an absolute time in
 * milliseconds on the monotonic clock (mp__clock_now_ms), never a relative
 * timeout, so a loop that blocks several times keeps one budget and never
 * drifts. MP_DEADLINE_NONE means "no deadline" and is only for waits the
 * caller has another way to end (a module without a timeout that the run
 * can still cancel). A deadline at or before now means "do not block".
 *
 *   int64_t dl = mp__deadline_in(timeout_ms);
 *   while (!done) poll(fds, n, mp__deadline_poll_ms(dl)) ...
 *
 * Wall-clock time (mp__clock_wall_ms) is for timestamps shown to users and
 * written to reports, never for measuring durations.
 *
 * Everything here is thread-safe and never fails (a clock that cannot be
 * read is a broken system: mp__die).
 */
#ifndef MP_OS_CLOCK_H
#define MP_OS_CLOCK_H

#include <stdint.h>

#define MP_DEADLINE_NONE INT64_MAX

/* Milliseconds on CLOCK_MONOTONIC (arbitrary origin, never goes back). */
int64_t mp__clock_now_ms(void);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME), for timestamps. */
int64_t mp__clock_wall_ms(void);

/* The deadline `ms` milliseconds from now; a negative ms is treated as 0;
 * saturates at MP_DEADLINE_NONE (so mp__deadline_in(INT64_MAX) is "none"). */
int64_t mp__deadline_in(int64_t ms);
/* Milliseconds left before `deadline`: 0 once it has passed, INT64_MAX for
 * MP_DEADLINE_NONE. */
int64_t mp__deadline_remaining_ms(int64_t deadline);
/* Non-zero once `deadline` has passed (never for MP_DEADLINE_NONE). */
int mp__deadline_passed(int64_t deadline);
/* The timeout argument for poll(2): -1 for MP_DEADLINE_NONE, 0 when the
 * deadline has passed, else the time left clamped to INT_MAX. */
int mp__deadline_poll_ms(int64_t deadline);
/* The earlier of two deadlines. */
int64_t mp__deadline_min(int64_t a, int64_t b);

#endif
