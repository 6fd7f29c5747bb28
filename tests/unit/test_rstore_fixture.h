/*
 * test_rstore_fixture.h -- what the unit tests of the redis:// store
 * (tests/unit/test_rstore_*.c, labelled redis) share: store URLs with a
 * prefix of their own on the server tests/support/with-services.sh
 * started, a raw hiredis connection to that server for reading and
 * damaging what the store wrote, scratch files, and an error check that
 * a message never holds a password.
 */
#ifndef MP_TESTS_RSTORE_FIXTURE_H
#define MP_TESTS_RSTORE_FIXTURE_H

#include "artifacts/store.h"
#include "os/clock.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RS_DL() mp__deadline_in(30000)

static inline const char *rs_server(void)
{
    const char *u = getenv("MODPIPE_TEST_REDIS_URL");
    if (!u || !*u) {
        fprintf(stderr, "MODPIPE_TEST_REDIS_URL is not set: run under "
                        "tests/support/with-services.sh redis -- ...\n");
        exit(1);
    }
    return u;
}

static inline int rs_port(void)
{
    rs_server();
    return atoi(getenv("MODPIPE_TEST_REDIS_PORT"));
}

/* A fresh prefix "ut/<pid>.<n>" into buf. */
static inline void rs_prefix(char *buf, size_t size)
{
    static unsigned seq;
    snprintf(buf, size, "ut/%d.%u", (int)getpid(), ++seq);
}

/* The test server's URL with ?prefix=<prefix>[&<query>]. */
static inline void rs_url(char *buf, size_t size, const char *prefix, const char *query)
{
    snprintf(buf, size, "%s?prefix=%s%s%s", rs_server(), prefix, query && *query ? "&" : "",
             query ? query : "");
}

static inline mp_store *rs_open(const char *url)
{
    mp_store *s = NULL;
    mp_error err = {0};
    mp_store_open_opts o = {.url = url, .deadline = RS_DL()};
    if (mp__store_open(&o, &s, &err) != 0) {
        fprintf(stderr, "open %s: %s\n", url, err.message);
        exit(1);
    }
    return s;
}

static inline redisContext *rs_raw(void)
{
    redisContext *c = redisConnect("127.0.0.1", rs_port());
    if (!c || c->err) {
        fprintf(stderr, "cannot connect to the test redis\n");
        exit(1);
    }
    return c;
}

/* Every key under "<prefix>/" (SCAN), as a NULL-terminated heap array. */
static inline char **rs_keys(redisContext *c, const char *prefix, size_t *n)
{
    char cursor[32] = "0";
    char **v = calloc(1, sizeof *v);
    *n = 0;
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s/* COUNT 1000", cursor, prefix);
        if (!r || r->type != REDIS_REPLY_ARRAY) exit(1);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            v = realloc(v, (*n + 2) * sizeof *v);
            v[(*n)++] = strdup(r->element[1]->element[i]->str);
            v[*n] = NULL;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return v;
}

static inline void rs_keys_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++) free(v[i]);
    free(v);
}

/* A file of n pseudo-random bytes (seeded). */
static inline void rs_write_file(const char *path, size_t n, unsigned seed)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) exit(1);
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 16) & 0xff, fp);
    }
    fclose(fp);
}

/* A scratch directory (mkdtemp) into buf. */
static inline void rs_tmpdir(char *buf, size_t size)
{
    snprintf(buf, size, "/tmp/mp-rstore-XXXXXX");
    if (!mkdtemp(buf)) exit(1);
}

static inline void rs_rmdir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

/* Entries of dir other than . and .. (0 = empty). */
static inline int rs_dir_entries(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", dir);
    return system(cmd) == 0 ? 0 : 1;
}

#endif
