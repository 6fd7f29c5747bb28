/*
 * yaml_scalar.c -- the type of a plain (unquoted) scalar: YAML 1.2 core
 * schema, with booleans restricted to `true`/`false` and nulls to `~`,
 * `null`, `Null`, `NULL` and the empty scalar (see yaml_tree.h). Decimal
 * integers are told apart from other numbers because only they are
 * accepted where a count is expected.
 */
#include "config/yaml_tree.h"

#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool all_of(const char *s, size_t n, const char *set)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i])) return false;
    return true;
}

static bool is_float(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    if (n - i == 4 &&
        (!memcmp(s + i, ".inf", 4) || !memcmp(s + i, ".Inf", 4) || !memcmp(s + i, ".INF", 4)))
        return true;
    size_t digits = 0;
    while (i < n && is_digit(s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, digits++;
    }
    if (digits == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+')) i++;
        if (i == n) return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i == n;
}

mp_ytype mp__yaml_plain_type(const char *s, size_t n)
{
    if (n == 0 || (n == 1 && s[0] == '~') ||
        (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4))))
        return MP_YT_NULL;
    if ((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5))) return MP_YT_BOOL;
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (all_of(s + i, n - i, "0123456789")) return MP_YT_INT;
    if (n > 2 && s[0] == '0' && s[1] == 'o' && all_of(s + 2, n - 2, "01234567"))
        return MP_YT_NUMBER;
    if (n > 2 && s[0] == '0' && s[1] == 'x' && all_of(s + 2, n - 2, "0123456789abcdefABCDEF"))
        return MP_YT_NUMBER;
    if (n == 4 && (!memcmp(s, ".nan", 4) || !memcmp(s, ".NaN", 4) || !memcmp(s, ".NAN", 4)))
        return MP_YT_NUMBER;
    if (is_float(s, n)) return MP_YT_NUMBER;
    return MP_YT_STRING;
}
