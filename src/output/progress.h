/*
 * progress.h -- the live display of a run on a terminal.
 *
 * The live area sits at the bottom of the terminal, below everything the
 * run prints, and is redrawn in place:
 *
 *   modpipe  3/9 done, 1 failed, 2 running, 4 pending  12.3s
 *     build           [########............]  4.1s / 9.0s
 *     test[os=linux]  [###.................]  1.0s / 6.0s  #2
 *
 * one row per running module, in the order they started, with the time
 * spent in the current attempt and a bar against the module's expected
 * duration (mp_run_info.expected_ms; full, and the time past it, once the
 * module runs longer than expected). "#2" marks a retry. Rows beyond the
 * terminal's height (less two) or 20 become "... and N more". Every line
 * is cut to the terminal width less one column, so no line wraps and the
 * area's height is exactly the number of lines drawn.
 *
 * Counts: done = modules in a terminal status (whatever it is), failed =
 * of those, failed and timed_out ones, running, pending = the rest of the
 * pipeline's modules.
 *
 * Drawing is plain ANSI: every line ends with "\n", so after a draw the
 * cursor is at the start of the line below the area; erasing is
 * "\r" + cursor up by the area's height ("\033[<n>A") + clear to the end
 * of the screen ("\033[J"). The display never writes by itself: its owner
 * (the console sink, console.h) asks for the erase and draw sequences and
 * writes them together with what it prints, in one write(2), so a block of
 * log is never mixed with the bar.
 *
 * Rate: mp__progress_due() is true at most every 100 ms (10 redraws per
 * second); the owner redraws only then, from tick() or right after
 * printing something.
 *
 * Clock: all times are milliseconds on one monotonic clock -- the `clock`
 * option (mp__clock_now_ms by default), and the `now` arguments, which
 * are expected on the same clock (the engine's tick passes
 * mp__clock_now_ms()).
 *
 * Ownership: mp__progress_new/free; the display keeps a pointer to the
 * pipeline of run_started (which must outlive the run). One thread.
 */
#ifndef MP_OUTPUT_PROGRESS_H
#define MP_OUTPUT_PROGRESS_H

#include "core/events.h"
#include "core/strbuf.h"

#include <stdbool.h>
#include <stdint.h>

#define MP_PROGRESS_INTERVAL_MS 100

typedef struct mp_progress mp_progress;

typedef struct mp_progress_opts {
    bool unicode;           /* bar of U+2588/U+2591 instead of "#" and "." */
    int width;              /* columns; 0 = the terminal's (TIOCGWINSZ on fd), else 80 */
    int height;             /* rows; 0 = the terminal's, else 24 */
    int64_t (*clock)(void); /* NULL = mp__clock_now_ms */
} mp_progress_opts;

/* A display for the terminal on fd (used only to ask its size). o may be
 * NULL for the defaults. */
mp_progress *mp__progress_new(int fd, const mp_progress_opts *o);
void mp__progress_free(mp_progress *pg); /* NULL-safe */

void mp__progress_run_started(mp_progress *pg, const mp_run_info *info);
void mp__progress_module_started(mp_progress *pg, size_t i, int attempt);
void mp__progress_module_finished(mp_progress *pg, size_t i, const mp_result *r);

/* Is a redraw allowed at `now` (MP_PROGRESS_INTERVAL_MS since the last
 * draw) and is there something to show (a module running)? */
bool mp__progress_due(const mp_progress *pg, int64_t now);
/* Is the area on screen now? */
bool mp__progress_drawn(const mp_progress *pg);
/* Append the sequence that erases the area (nothing when it is not on
 * screen); afterwards the area counts as not drawn. */
void mp__progress_erase(mp_progress *pg, mp_strbuf *sb);
/* Append the area as of `now` (nothing when no module runs) and remember
 * its height and the time of the draw. Call with the area erased. */
void mp__progress_draw(mp_progress *pg, mp_strbuf *sb, int64_t now);
/* The clock the display uses (its `clock` option). */
int64_t mp__progress_now(const mp_progress *pg);

#endif
