/*
 * signals.h -- turning SIGINT, SIGTERM and SIGHUP into a readable fd for
 * the engine's stop_fd (engine.h), for the duration of one run.
 *
 *   mp_sigwatch w;
 *   if (mp__sigwatch_start(&w, err) < 0) ...    nothing to stop
 *   opts.stop_fd = w.fd; opts.stop_read = mp__sigwatch_read; opts.stop_data = &w;
 *   ... mp__engine_run ...
 *   mp__sigwatch_stop(&w);
 *
 * How: the three signals are blocked in the calling thread
 * (pthread_sigmask) and a signalfd (non-blocking, close-on-exec) receives
 * them instead, so a Ctrl-C is a readable fd in the engine's poll loop, not
 * an asynchronous handler. SIGPIPE is ignored meanwhile, so a closed stdout
 * is a write error (EPIPE) instead of death. Threads started afterwards
 * (C-function modules) inherit the mask; module processes do not: the
 * process layer (process.h) resets the mask and every disposition in the
 * child. stop() takes every pending signal of the three off the queue,
 * closes the fd and restores the previous mask and SIGPIPE disposition, so
 * mp_main() leaves a calling program as it found it.
 *
 * A signal the process ignores (SIG_IGN) when the watch starts stays
 * ignored: the kernel discards it before it can be queued, so `nohup
 * modpipe run` is not stopped by a hangup, and a background job started
 * by a non-interactive shell (which ignores SIGINT for it) is not stopped
 * by SIGINT -- the convention of shells and of make.
 *
 * A program that calls mp_main() from one thread while other threads of
 * its own run must block these signals in those threads too; otherwise the
 * kernel may deliver a process-directed SIGINT to one of them, with its
 * default action.
 *
 * Ownership: an mp_sigwatch is caller-owned; start/stop. One thread.
 */
#ifndef MP_OS_SIGNALS_H
#define MP_OS_SIGNALS_H

#include "modpipe.h"

#include <signal.h>

typedef struct mp_sigwatch {
    int fd;            /* the signalfd; -1 when not started */
    sigset_t old_mask; /* the thread's mask before start */
    struct sigaction old_pipe;
    int pending; /* signals taken off the queue by stop() */
} mp_sigwatch;

/* Block SIGINT, SIGTERM and SIGHUP, ignore SIGPIPE, open the signalfd.
 * Returns 0, or MP_EIO with err filled and everything as it was. */
int mp__sigwatch_start(mp_sigwatch *w, mp_error *err);

/* The engine's stop_read (data is the mp_sigwatch): reads one signal.
 * Returns 0 with *signo set to the signal, or to 0 when none was pending;
 * -1 when the fd is unusable (the engine stops polling it). */
int mp__sigwatch_read(void *data, int *signo);

/* Consume what is pending (counted in w->pending), close the fd, restore
 * the mask and SIGPIPE. NULL-safe, and safe on a watch never started or
 * already stopped. */
void mp__sigwatch_stop(mp_sigwatch *w);

/* Exit status of a run interrupted by signo: 128 + signo (130 SIGINT,
 * 143 SIGTERM, 129 SIGHUP). */
int mp__signal_exit_code(int signo);

#endif
