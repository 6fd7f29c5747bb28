/*
 * console.h -- the sink that shows a run on the terminal (or any fd):
 * module logs, start and finish lines, and the live progress display.
 *
 * Output modes (--output):
 *   MP_OUTPUT_GROUPED (default): nothing of a module's output is held in
 *     memory; when a module finishes, its log file (mp_result.log_path,
 *     written by the engine; NULL when it printed nothing, and then no
 *     file is opened) is printed as one block under a header,
 *
 *       == build (succeeded, 1.2s) ==
 *       ...the module's log...
 *       == test (failed, exit 1, 0.3s) ==
 *       ...the module's log...
 *       error: <mp_result.error_message, when there is one>
 *
 *     read in 64 KiB chunks and written in pieces of at most 1 MiB, each
 *     cut after a newline (so a huge log stays bounded in memory and
 *     another writer on the same fd can only come in between lines).
 *   MP_OUTPUT_STREAM: module output as it comes, each line prefixed with
 *     "[build] ". A module's unfinished last line is held until its newline,
 *     the module's next attempt or its finish; a held line that reaches
 *     64 KiB is printed with " [line continues]" and the rest follows as
 *     a new prefixed line, so a line that never ends stays bounded.
 *
 * Start and finish lines (ASCII glyphs; Unicode ones with opts.unicode):
 *
 *   > build                            start (attempt >= 2: "> build (attempt 2)")
 *   + build succeeded 1.2s             U+2713 with unicode
 *   x test failed (exit 1) 0.3s        U+2717; also "timed out", "failed (signal 9)"
 *   ! test failed, ignored (exit 1) 0.3s   ignore_failure
 *   - lint skipped: <reason>           U+25CB; also dependency failed, cancelled
 *
 * A finish line ends with ": <error message>" when the result has one, and
 * with "after N attempts" when the module was retried. Which lines appear:
 *   - progress off: a start line per attempt; in stream mode a finish line
 *     per module; in grouped mode the block header is the finish line of a
 *     module that ran, and a module that never ran gets its finish line.
 *   - progress on (tty_progress): no start lines (the live display shows
 *     running modules); finish lines and blocks as above, printed above the
 *     live area: each write is erase + text (+ the area redrawn when the
 *     10-per-second budget allows; else at the next tick). run_finished
 *     erases the area.
 * With unicode the block header rule is U+2500 twice ("── build (...) ──").
 *
 * Every line (every grouped piece) goes out in one write(2) loop, so lines
 * from different writers never interleave mid-line. Text from the engine is
 * already masked and is not masked again. After a write error (e.g. a
 * closed pipe) the sink writes nothing more; mp__console_sink_error() tells.
 *
 * Ownership: mp__console_sink() returns a sink whose data is the console's
 * (heap); release it with mp__console_sink_free(). The pipeline given in
 * run_started must outlive the run. Engine thread only, like every sink.
 */
#ifndef MP_OUTPUT_CONSOLE_H
#define MP_OUTPUT_CONSOLE_H

#include "core/events.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum mp_output_mode {
    MP_OUTPUT_GROUPED = 0,
    MP_OUTPUT_STREAM = 1,
} mp_output_mode;

/* Held partial lines longer than this are cut (stream mode). */
#define MP_CONSOLE_MAX_LINE (64 * 1024)

typedef struct mp_console_opts {
    bool unicode;           /* Unicode glyphs (a UTF-8 terminal); ASCII otherwise */
    int width, height;      /* live display size; 0 = the terminal's (80x24 fallback) */
    int64_t (*clock)(void); /* monotonic ms; NULL = mp__clock_now_ms (tests fake it) */
} mp_console_opts;

/* A console writing to fd (not closed by the sink). tty_progress turns on
 * the live display (the caller decides: --progress always, or auto and fd
 * is a terminal). o may be NULL for the defaults. */
mp_sink mp__console_sink(int fd, mp_output_mode mode, bool tty_progress, const mp_console_opts *o);
/* NULL-safe; dies if s is not a console sink. */
void mp__console_sink_free(mp_sink *s);
/* 0, or the errno of the write that failed (nothing is written after it). */
int mp__console_sink_error(const mp_sink *s);

#endif
