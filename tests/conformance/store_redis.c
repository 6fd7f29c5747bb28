/* store_redis.c -- the store conformance suite against the redis://
 * store, on the real redis-server that tests/support/with-services.sh
 * starts (MODPIPE_TEST_REDIS_URL).
 * labels: redis
 * Each store gets a prefix of its own (so it starts empty and nothing
 * else uses it) and a small chunk size, so the multi-MiB objects of the
 * suite span several chunks. */
#include "store_backend.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *server(void)
{
    const char *u = getenv("MODPIPE_TEST_REDIS_URL");
    if (!u || !*u) {
        fprintf(stderr, "MODPIPE_TEST_REDIS_URL is not set: run under "
                        "tests/support/with-services.sh redis -- ...\n");
        exit(1);
    }
    return u;
}

static char *url_new(void)
{
    static unsigned seq;
    size_t n = strlen(server()) + 128;
    char *url = malloc(n);
    snprintf(url, n, "%s?prefix=conf/%d.%u&chunk=256KiB&ttl=10m", server(), (int)getpid(),
             ++seq);
    return url;
}

/* Remove every key under the store's prefix (metadata and chunks). */
static void url_free(char *url)
{
    const char *port = getenv("MODPIPE_TEST_REDIS_PORT");
    const char *p = strstr(url, "prefix=");
    if (port && p) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%.*s", (int)strcspn(p + 7, "&"), p + 7);
        redisContext *c = redisConnect("127.0.0.1", atoi(port));
        if (c && !c->err) {
            char cursor[32] = "0";
            char match[160];
            snprintf(match, sizeof match, "%s/*", prefix);
            do {
                redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, match);
                if (!r || r->type != REDIS_REPLY_ARRAY) {
                    if (r) freeReplyObject(r);
                    break;
                }
                snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
                for (size_t i = 0; i < r->element[1]->elements; i++)
                    freeReplyObject(redisCommand(c, "DEL %s", r->element[1]->element[i]->str));
                freeReplyObject(r);
            } while (strcmp(cursor, "0") != 0);
        }
        if (c) redisFree(c);
    }
    free(url);
}

const store_backend store_backend_under_test = {"redis", url_new, url_free};

int main(int argc, char **argv)
{
    return store_conf_main(argc, argv);
}
