/*
 * duration.h -- durations as written in pipeline files: "500ms", "2s",
 * "10m", "1h30m", "1h2m3s500ms", or "0".
 *
 * Grammar: "0" | ( <digits> ( "h" | "m" | "s" | "ms" ) )+ with units in
 * strictly decreasing order, each at most once. No sign, no spaces, no
 * fractions; a bare number other than 0 is refused (the unit would be a
 * guess). The total must fit in 30 days.
 */
#ifndef MP_CORE_DURATION_H
#define MP_CORE_DURATION_H

#include <stdint.h>

/* Parse s into milliseconds. Returns 0, or -1 with *why set to a static
 * explanation (e.g. "missing unit (use ms, s, m or h)"). */
int mp__duration_parse(const char *s, int64_t *ms, const char **why);
/* Canonical text of a duration ("1h30m", "500ms", "0") into buf. */
void mp__duration_format(int64_t ms, char *buf, unsigned size);

#endif
