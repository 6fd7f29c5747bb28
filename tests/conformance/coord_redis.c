/* coord_redis.c -- the conformance suite against the Redis backend, on
 * the real redis-server that tests/support/with-services.sh starts.
 * labels: redis
 * Each case is a run of its own (its own run id, so its own keys). */
#include "coord_backend.h"

#include <stdio.h>
#include <stdlib.h>

static const char *url(void)
{
    const char *u = getenv("MODPIPE_TEST_REDIS_URL");
    if (!u || !*u) {
        fprintf(stderr, "MODPIPE_TEST_REDIS_URL is not set: run under "
                        "tests/support/with-services.sh redis -- ...\n");
        exit(1);
    }
    return u;
}

static void *run_new(const char *run_id)
{
    (void)run_id;
    return (void *)url();
}

static void run_opts(void *run, const char *run_id, mp_coord_open_opts *o)
{
    o->url = run;
    o->run_id = run_id;
}

static void run_free(void *run)
{
    (void)run;
}

const conf_backend conf_backend_under_test = {"redis", run_new, run_opts, run_free};

int main(int argc, char **argv)
{
    return conf_main(argc, argv);
}
