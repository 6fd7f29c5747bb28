/*
 * duration.c -- parsing and printing durations of pipeline files (duration.h).
 *
 * The parser walks the text once: a run of digits, then a run of letters
 * that must be one of h, m, s, ms, each unit smaller than the one before.
 * Values are accumulated in milliseconds and checked against the 30-day
 * ceiling after every term, so no intermediate value can overflow.
 */
#include "core/duration.h"

#include <stdio.h>
#include <string.h>

#define MAX_MS (30LL * 24 * 60 * 60 * 1000)

/* Units from largest to smallest; a term's unit must come after the
 * previous term's in this table. */
static const struct unit {
    const char *name;
    int64_t ms;
} units[] = {
    {"h", 60LL * 60 * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int fail(const char **why, const char *text)
{
    if (why) *why = text;
    return -1;
}

/* Why a character that is neither a digit nor a unit letter is there. */
static const char *why_char(char c)
{
    if (c == '-' || c == '+') return "a duration has no sign";
    if (c == '.' || c == ',') return "no fractions (write 1s500ms, not 1.5s)";
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return "no spaces allowed";
    return "unexpected character (use digits followed by ms, s, m or h)";
}

int mp__duration_parse(const char *s, int64_t *ms, const char **why)
{
    if (!s || !*s) return fail(why, "empty duration");
    if (strcmp(s, "0") == 0) {
        if (ms) *ms = 0;
        return 0;
    }
    int64_t total = 0;
    size_t next_unit = 0; /* index of the largest unit still allowed */
    const char *c = s;
    while (*c) {
        if (!is_digit(*c)) {
            if (is_alpha(*c)) return fail(why, "a unit needs a number before it");
            return fail(why, why_char(*c));
        }
        int64_t n = 0;
        int too_big = 0;
        while (is_digit(*c)) {
            if (n > MAX_MS)
                too_big = 1;
            else
                n = n * 10 + (*c - '0');
            c++;
        }
        if (!*c) return fail(why, "missing unit (use ms, s, m or h)");
        if (!is_alpha(*c)) return fail(why, why_char(*c));
        const char *u = c;
        while (is_alpha(*c))
            c++;
        size_t ulen = (size_t)(c - u);
        size_t k = 0;
        while (k < NUNITS &&
               !(strlen(units[k].name) == ulen && memcmp(units[k].name, u, ulen) == 0))
            k++;
        if (k == NUNITS) return fail(why, "unknown unit (use ms, s, m or h)");
        if (k + 1 == next_unit) return fail(why, "each unit may appear only once");
        if (k < next_unit) return fail(why, "units must go from largest to smallest (h, m, s, ms)");
        next_unit = k + 1;
        if (too_big || n > MAX_MS / units[k].ms) return fail(why, "longer than 30 days");
        total += n * units[k].ms;
        if (total > MAX_MS) return fail(why, "longer than 30 days");
    }
    if (ms) *ms = total;
    return 0;
}

void mp__duration_format(int64_t ms, char *buf, unsigned size)
{
    if (!buf || size == 0) return;
    buf[0] = '\0';
    if (ms == 0) {
        snprintf(buf, size, "0");
        return;
    }
    size_t len = 0;
    uint64_t rest;
    if (ms < 0) {
        snprintf(buf, size, "-");
        len = strlen(buf);
        rest = (uint64_t)(-(ms + 1)) + 1;
    } else {
        rest = (uint64_t)ms;
    }
    for (size_t k = 0; k < NUNITS; k++) {
        uint64_t n = rest / (uint64_t)units[k].ms;
        if (n == 0) continue;
        rest -= n * (uint64_t)units[k].ms;
        if (len + 1 >= size) break;
        int w = snprintf(buf + len, size - len, "%llu%s", (unsigned long long)n, units[k].name);
        if (w < 0) break;
        len += (size_t)w;
        if (len >= size) {
            buf[size - 1] = '\0';
            break;
        }
    }
}
