/*
 * error.h -- filling mp_error (see modpipe.h) at the place a failure is found.
 *
 * `return mp__error(err, MP_EIO, path, "cannot read: %s", strerror(errno));`
 * sets code, where and message (lower-case, no final period, what failed
 * first) and returns the code, so a failure is reported and propagated in
 * one statement. err may be NULL.
 */
#ifndef MP_CORE_ERROR_H
#define MP_CORE_ERROR_H

#include "modpipe.h"

int mp__error(mp_error *err, int code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
