/*
 * outputs.h -- the $MODPIPE_OUTPUT file a module writes its outputs to
 * (DESIGN §2: the $GITHUB_OUTPUT convention).
 *
 * Format, one item per line (a final "\r" of a line is dropped):
 *   key=value          value is the rest of the line, taken as is
 *   key<<DELIM         a block: the following lines up to a line that is
 *   line 1                exactly DELIM are the value, joined with "\n"
 *   DELIM                 (no final newline)
 * Keys are [A-Za-z0-9_-]+. When a line has both "=" and "<<", whichever
 * comes first decides. Empty lines are ignored. A key set twice keeps the
 * last value. Anything else (a bad key, a line with neither form, a block
 * never closed, an empty delimiter) is a problem: it is reported with its
 * line number and skipped, and parsing goes on. Input is any bytes; NUL
 * bytes end nothing (a value may not contain one: such a line is a
 * problem).
 *
 * The file is read up to MP_OUTPUTS_MAX bytes; what lies beyond is
 * ignored and reported as one problem.
 */
#ifndef MP_CORE_OUTPUTS_H
#define MP_CORE_OUTPUTS_H

#include "core/arena.h"
#include "core/model.h"
#include "core/strbuf.h"

#include <stddef.h>

#define MP_OUTPUTS_MAX (1024 * 1024)

/* Called for each output found, in file order (repeats included: the
 * caller keeps the last). Strings are not NUL-terminated. */
typedef void (*mp_outputs_fn)(const char *key, size_t klen, const char *value, size_t vlen,
                              void *data);
/* Called for each problem: 1-based line and a message (static text or
 * formatted into a temporary buffer; copy it to keep it). */
typedef void (*mp_outputs_problem_fn)(unsigned line, const char *msg, void *data);

/* Parse text[0..len). Returns the number of problems. */
size_t mp__outputs_parse(const char *text, size_t len, mp_outputs_fn on_output,
                         mp_outputs_problem_fn on_problem, void *data);

/* Read the file at path (a missing or empty file: no outputs, no problem)
 * and merge its outputs into *out (a later key replaces an earlier one;
 * strings in arena `a`). Each problem is appended to *problems as one line
 * "$MODPIPE_OUTPUT line N: message\n". Returns the number of problems, or
 * MP_EIO when the file exists but cannot be read (problems says why). */
int mp__outputs_read_file(const char *path, mp_arena *a, mp_kv_vec *out, mp_strbuf *problems);

/* Set key to value in *out: replaces the value of an existing key, else
 * appends. Both are copied into a. */
void mp__outputs_set(mp_arena *a, mp_kv_vec *out, const char *key, size_t klen, const char *value,
                     size_t vlen);

#endif
