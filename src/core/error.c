/* error.c -- the error table of modpipe.h and mp__error(). */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *mp_err_name(int code)
{
    switch (code) {
    case 0:
        return "MP_OK";
#define NAME_CASE(name, value, msg)                                            \
    case value:                                                                \
        return "MP_" #name;
        MP_ERRNO_MAP(NAME_CASE)
#undef NAME_CASE
    }
    return "MP_EUNKNOWN";
}

const char *mp_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define MSG_CASE(name, value, msg)                                             \
    case value:                                                                \
        return msg;
        MP_ERRNO_MAP(MSG_CASE)
#undef MSG_CASE
    }
    return "unknown error";
}

int mp__error(mp_error *err, int code, const char *where, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->where, sizeof(err->where), "%s", where ? where : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}
