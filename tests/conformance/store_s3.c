/*
 * store_s3.c -- the store conformance suite against the s3:// store and a
 * real S3 server (s3rver, checking SigV4), started by
 * tests/support/with-services.sh for this test.
 *
 * labels: s3
 *
 * Each case gets a fresh prefix of the test bucket (unique per process
 * and call), emptied through the store API afterwards.
 */
#include "store_backend.h"

#include "artifacts/store.h"
#include "os/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *need(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run under tests/support/with-services.sh s3\n", name);
        abort();
    }
    return v;
}

static char *url_new(void)
{
    static int seq;
    size_t n = 4096;
    char *url = malloc(n);
    if (!url) abort();
    snprintf(url, n, "s3://%s/conf-%d-%d-%lld?endpoint=%s&path_style=1",
             need("MODPIPE_TEST_S3_BUCKET"), (int)getpid(), ++seq,
             (long long)mp__clock_wall_ms(), need("MODPIPE_TEST_S3_ENDPOINT"));
    return url;
}

static void url_free(char *url)
{
    mp_store *s = NULL;
    mp_error err = {0};
    mp_store_open_opts o = {.url = url, .deadline = mp__deadline_in(30000)};
    if (mp__store_open(&o, &s, &err) == 0) {
        mp_store_list l = {0};
        if (mp__store_list(s, "", mp__deadline_in(30000), &l, &err) == 0)
            for (size_t i = 0; i < l.n; i++)
                if (mp__store_delete(s, l.keys[i], mp__deadline_in(30000), &err))
                    fprintf(stderr, "cleanup: %s\n", err.message);
        mp__store_list_release(&l);
        mp__store_close(s);
    } else {
        fprintf(stderr, "cleanup: %s\n", err.message);
    }
    free(url);
}

const store_backend store_backend_under_test = {"s3", url_new, url_free};

int main(int argc, char **argv)
{
    return store_conf_main(argc, argv);
}
