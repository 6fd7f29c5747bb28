/*
 * store_backend.h -- what the store conformance suite needs from a
 * backend: the URL of a fresh, empty, isolated store.
 *
 * store_suite.c holds every case and uses only artifacts/store.h; one
 * small file per backend (store_fs.c, store_s3.c, store_redis.c) defines
 * store_backend_under_test. tests/CMakeLists.txt builds one executable per
 * backend file and registers `conformance.store.<backend>.<case>` for
 * every STORE_CASE(name) line of store_suite.c (a backend file with a
 * `labels: redis` or `labels: s3` line runs with that server started);
 * the executable runs the case named by its first argument.
 */
#ifndef MP_TESTS_STORE_BACKEND_H
#define MP_TESTS_STORE_BACKEND_H

typedef struct store_backend {
    const char *name;
    /* A heap URL of a new, empty store nothing else uses; fails the test
     * (never skips) when the backend's server is unavailable. */
    char *(*url_new)(void);
    /* Remove what the store holds, then free the URL. */
    void (*url_free)(char *url);
} store_backend;

extern const store_backend store_backend_under_test;

int store_conf_main(int argc, char **argv);

#endif
