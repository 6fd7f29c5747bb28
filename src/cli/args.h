/*
 * args.h -- the option parser shared by the subcommands of mp_main().
 *
 * Each command describes the options it acts on in a table of mp_opt_spec
 * (terminated by an entry with name NULL); the parser accepts exactly those,
 * so no flag is ever parsed and then ignored. Accepted forms:
 *   --name value   --name=value   -j 4   -j4   (value options)
 *   --name         -q                         (flags)
 *   --            (everything after it is positional)
 * A list option may be repeated and each value may be a comma-separated
 * list; commas inside [...] do not split, so a matrix instance such as
 * "test[os=linux,arch=arm64]" stays one item. A value option given twice
 * keeps the last value. At most one positional argument (FILE) is taken.
 * "-h"/"--help" anywhere before "--" asks for help, whatever else the line
 * holds (nothing else is parsed then).
 *
 * Errors (unknown option with a did-you-mean, missing value, empty list
 * item, extra argument) come back as MP_EUSAGE with err->message set,
 * lower-case, without the "modpipe <command>: " prefix the caller adds.
 *
 * Ownership: everything the parser returns lives in the mp_args arena
 * (or points into argv) until mp__args_release().
 */
#ifndef MP_CLI_ARGS_H
#define MP_CLI_ARGS_H

#include "core/arena.h"
#include "modpipe.h"

#include <stddef.h>

typedef enum mp_opt_kind {
    MP_OPT_FLAG,  /* no value; counts how often it was given */
    MP_OPT_VALUE, /* one value; the last one wins */
    MP_OPT_LIST,  /* repeatable, comma-separated */
} mp_opt_kind;

typedef struct mp_opt_spec {
    const char *name; /* long name without "--"; NULL ends a table */
    char short_name;  /* 'j' for -j, or 0 */
    mp_opt_kind kind;
    const char *metavar; /* value placeholder in help ("N", "A,B"), NULL for flags */
    const char *help;    /* one line for the command's --help */
} mp_opt_spec;

typedef struct mp_opt_value {
    unsigned count;    /* times the option was given */
    const char *value; /* MP_OPT_VALUE: the last value */
    MP_VEC(const char *)
    items; /* MP_OPT_LIST: every item, in order, NULL-terminated when count > 0 */
} mp_opt_value;

typedef struct mp_args {
    mp_arena *arena;
    const mp_opt_spec *specs;
    size_t nspecs;
    mp_opt_value *values; /* parallel to specs */
    const char *file;     /* the positional argument, or NULL */
    int help;             /* -h/--help was given */
} mp_args;

/* Parse argv[0..argc) (the arguments after the command name) against
 * specs. Returns 0 or MP_EUSAGE with err filled. Release with
 * mp__args_release() in both cases. */
int mp__args_parse(mp_args *a, const mp_opt_spec *specs, int argc, char **argv, mp_error *err);
void mp__args_release(mp_args *a);

/* The parsed value of the option named `name` (which must be in the spec
 * table: a typo here is a programming error and aborts). */
const mp_opt_value *mp__args_get(const mp_args *a, const char *name);
/* The items of a list option as a NULL-terminated array, or NULL when the
 * option was not given (the shape of mp_filters' lists). */
const char *const *mp__args_list(const mp_args *a, const char *name);

/* Log levels: error < warn < info < debug. -q selects warn, -v debug;
 * without either, MODPIPE_LOG_LEVEL (one of the four names) applies, and
 * info otherwise. Only flags present in the command's spec table count. */
typedef enum mp_log_level {
    MP_LOG_ERROR = 0,
    MP_LOG_WARN = 1,
    MP_LOG_INFO = 2,
    MP_LOG_DEBUG = 3,
} mp_log_level;

/* Resolve the log level for parsed args. Returns 0, or MP_EUSAGE with err
 * filled when MODPIPE_LOG_LEVEL holds an unknown name. */
int mp__args_log_level(const mp_args *a, mp_log_level *level, mp_error *err);

#endif
