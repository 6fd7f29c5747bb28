/*
 * relay.h -- the output of --local-instances' worker processes folded
 * into this process's standard output, each line prefixed with its
 * instance ("[2] > build").
 *
 * One thread polls every source fd (non-blocking pipe read ends) and an
 * eventfd; a complete line goes out with its prefix in one write(2), so
 * it never interleaves with the master's own lines (which are written the
 * same way, cli.h). A line longer than MP_RELAY_LINE_MAX is written in
 * pieces of that size, each prefixed. A source with prefix NULL is read
 * and dropped (a private redis-server's chatter at the default log level).
 * At end of file a source's unfinished line is written with a newline.
 *
 * Threads: mp__relay_start starts the thread (call it with the signals
 * the program watches blocked, os/signals.h, so the thread inherits the
 * mask); mp__relay_stop waits until every source reached end of file or
 * the deadline, then drains what is readable, ends the thread and joins
 * it. The fds stay the caller's (they are not closed here).
 */
#ifndef MP_CLI_RELAY_H
#define MP_CLI_RELAY_H

#include <stddef.h>
#include <stdint.h>

#define MP_RELAY_LINE_MAX 65536

typedef struct mp_relay mp_relay;

typedef struct mp_relay_source {
    int fd;
    const char *prefix; /* copied; NULL: drop */
} mp_relay_source;

/* NULL when the thread cannot start (then nothing is relayed). */
mp_relay *mp__relay_start(int out_fd, const mp_relay_source *src, size_t n);
void mp__relay_stop(mp_relay *r, int64_t deadline);

#endif
