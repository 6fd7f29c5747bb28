/*
 * logfile.h -- one module's log: state_dir/logs/<name>.log.
 *
 * Everything a module prints passes through here once: a streaming secret
 * masker (output/mask.h) first, then, masked, into the log file, to an
 * "echo" callback (the engine hands it to the sinks' module_output) and
 * into a small ring that keeps the end of the current attempt for the
 * result's log_tail. Memory is bounded whatever the module prints (binary,
 * endless lines, MB/s): the masker holds back less than the longest secret
 * form, the ring is MP_LOG_TAIL_BYTES, nothing else is kept.
 *
 * The file is created (truncated) only when the first byte is written to
 * it, so a module that prints nothing has no log file: opening the log
 * removes the file a previous run left (when the caller says there may be
 * one), and mp__modlog_created() says whether there is one. Each later
 * attempt starts with a line
 * "--- attempt N ---" (in the file only).
 * modpipe's own remarks (timeouts, retries, bad outputs) are added as lines
 * "modpipe: ..." with mp__modlog_note(): they go to the file, the echo and
 * the tail, masked too.
 *
 * A failed write to the file (disk full, or it cannot be created) stops
 * writing to the file; the echo and the tail go on, and the error is
 * reported once as a note.
 *
 * Ownership: an mp_modlog is caller-owned (open/close); it keeps the fd and
 * a heap copy of its path. Single-threaded, like the engine loop.
 */
#ifndef MP_CORE_LOGFILE_H
#define MP_CORE_LOGFILE_H

#include "core/arena.h"
#include "core/model.h"
#include "output/mask.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes of the latest output kept for the tail. */
#define MP_LOG_TAIL_BYTES (16 * 1024)
/* Lines in a result's log_tail. */
#define MP_LOG_TAIL_LINES 20

typedef void (*mp_log_echo_fn)(void *data, const char *bytes, size_t n);

typedef struct mp_modlog {
    int fd;      /* -1 until the first write, once closed, after an error */
    int created; /* the file was created */
    char *path;
    int write_errno; /* first write error, 0 if none */
    int error_noted;
    mp_mask_stream ms; /* set up at the first feed */
    int ms_ready;
    mp_log_echo_fn echo;
    void *echo_data;
    const mp_masker *masker;
    char last;           /* last byte written (for line breaks before notes) */
    char *tail;          /* ring of MP_LOG_TAIL_BYTES, from the first byte */
    size_t tail_pos;     /* next write position in the ring */
    uint64_t tail_total; /* bytes written to the ring since the attempt began */
} mp_modlog;

/* Unique file names (without ".log") for every module of p, by index:
 * the name with every byte outside [A-Za-z0-9_.,=+-] turned into "_"
 * ("test[os=linux]" -> "test_os=linux_"); when two modules would share
 * a name, later ones (in index order) get "~<index>" appended. In arena a. */
const char **mp__log_names(const mp_pipeline *p, mp_arena *a);

typedef struct mp_modlog_opts {
    const char *path;
    const mp_masker *masker; /* may be NULL */
    mp_log_echo_fn echo;     /* may be NULL */
    void *echo_data;
    int may_exist; /* a file at path may be left from before: remove it */
} mp_modlog_opts;

/* Get ready for output to the log at o->path (the file is created by the
 * first write). Returns 0 or MP_EIO when an old file cannot be removed
 * (err says why); on failure there is nothing to close. */
int mp__modlog_open(mp_modlog *l, const mp_modlog_opts *o, mp_error *err);
/* Attempt `attempt` (1-based) begins: a marker line in the file for the
 * second and later ones; the tail starts afresh. */
void mp__modlog_begin_attempt(mp_modlog *l, int attempt);
/* Bytes the module printed. */
void mp__modlog_feed(mp_modlog *l, const void *bytes, size_t n);
/* End of the attempt's output: what the masker held back is written. */
void mp__modlog_flush(mp_modlog *l);
/* A line "modpipe: <text>" after the module's output (flushes first). */
void mp__modlog_note(mp_modlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last MP_LOG_TAIL_LINES lines of the current attempt (NUL bytes shown
 * as "?"), in arena a; "" when it printed nothing. */
const char *mp__modlog_tail(const mp_modlog *l, mp_arena *a);
/* Has the file been created (something was written to it)? */
int mp__modlog_created(const mp_modlog *l);
/* Flush and close. NULL-safe on a never-opened (zeroed) log. */
void mp__modlog_close(mp_modlog *l);

#endif
