/*
 * coord_backend.h -- what the coordinator conformance suite needs from a
 * backend: a fresh, isolated run and the options that open handles on it.
 *
 * coord_suite.c holds every case and uses only coord.h; one small file
 * per backend (coord_memory.c, next coord_redis.c) defines
 * conf_backend_under_test. tests/CMakeLists.txt builds one executable per
 * backend file and registers `conformance.coord.<backend>.<case>` for
 * every CONF_CASE(name) line of coord_suite.c; the executable runs the
 * case named by its first argument (all cases without one).
 */
#ifndef MP_TESTS_COORD_BACKEND_H
#define MP_TESTS_COORD_BACKEND_H

#include "coord/coord.h"

typedef struct conf_backend {
    const char *name;
    /* A new run (its own state, nothing shared with other runs). */
    void *(*run_new)(const char *run_id);
    /* Options to open master and worker handles of that run. */
    void (*run_opts)(void *run, const char *run_id, mp_coord_open_opts *o);
    /* After every handle of the run is closed. */
    void (*run_free)(void *run);
} conf_backend;

extern const conf_backend conf_backend_under_test;

int conf_main(int argc, char **argv);

#endif
