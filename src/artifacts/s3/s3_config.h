/*
 * s3_config.h -- what an `s3://` store URL and the environment say
 * (DESIGN §1, §3.6; decisions in docs/artifacts-s3.md).
 *
 *   s3://bucket[/prefix][?endpoint=URL&region=R&path_style=1
 *                        &multipart_threshold=SIZE&part_size=SIZE
 *                        &parallel=N&max_attempts=N]
 *
 * Credentials never come from the URL: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (both required), AWS_SESSION_TOKEN (optional).
 * The region is `region=` > AWS_REGION > AWS_DEFAULT_REGION > us-east-1.
 * Without `endpoint=` the store talks to AWS (https://s3.<region>.amazonaws.com).
 * Addressing is virtual-hosted (bucket.host) unless `path_style=1`, the
 * endpoint host is an IP address or `localhost`, or the bucket name has a
 * dot (a TLS wildcard certificate cannot cover it).
 *
 * `display` is what messages show: `s3://bucket/prefix`, never a secret
 * (no credentials are in the URL; a user:password in the endpoint is
 * shown as `***`).
 *
 * Ownership: mp__s3_config_parse fills a caller-owned struct whose strings
 * belong to it; mp__s3_config_release frees them (and wipes the secret).
 */
#ifndef MP_ARTIFACTS_S3_CONFIG_H
#define MP_ARTIFACTS_S3_CONFIG_H

#include "modpipe.h"

#include <stdbool.h>
#include <stdint.h>

#define MP_S3_MIN_PART_SIZE (5ull << 20)    /* S3: every part but the last */
#define MP_S3_MAX_PART_SIZE (5ull << 30)    /* S3: 5 GiB per part */
#define MP_S3_MAX_PARTS 10000               /* S3: parts per upload */

/* Defaults of the tuning options (the URL may override them). */
#define MP_S3_DEFAULT_THRESHOLD (16ull << 20)
#define MP_S3_DEFAULT_PART_SIZE (16ull << 20)
#define MP_S3_DEFAULT_PARALLEL 4
#define MP_S3_DEFAULT_MAX_ATTEMPTS 5
#define MP_S3_MAX_PARALLEL 64
#define MP_S3_MAX_ATTEMPTS_LIMIT 20

typedef struct mp_s3_config {
    char *bucket;   /* validated S3 bucket name */
    char *prefix;   /* "" or "a/b" (no leading or trailing slash) */
    char *endpoint; /* "scheme://host[:port][/path]" without a final slash */
    char *region;
    bool path_style;
    uint64_t multipart_threshold; /* bytes; blobs larger go multipart */
    uint64_t part_size;           /* bytes per part (grown for huge blobs) */
    int parallel;                 /* part requests in flight per transfer */
    int max_attempts;             /* tries per request (1 = no retry) */
    char *key_id, *secret, *token; /* token may be NULL */
    char *display;                 /* "s3://bucket/prefix", for messages */
    char *endpoint_display;        /* endpoint with any password as *** */
} mp_s3_config;

/* Reads the environment variable `name` (getenv when get is NULL). */
typedef const char *(*mp_s3_getenv_fn)(const char *name, void *data);

/* Parses `url` and reads the credentials and region from the environment
 * (through getenv_fn, or getenv when NULL). Returns 0, or MP_EUSAGE with a
 * message naming the bad part (unknown option, bad bucket name, missing
 * credentials ...); on failure there is nothing to release. */
int mp__s3_config_parse(mp_s3_config *c, const char *url, mp_s3_getenv_fn getenv_fn,
                        void *getenv_data, mp_error *err);
void mp__s3_config_release(mp_s3_config *c);

/* The full object key of store key `key` (prefix + "/" + key), malloc'd. */
char *mp__s3_config_object_key(const mp_s3_config *c, const char *key);

/* Parses "123", "16MiB", "8M", "1G", "64k" (binary multiples). */
int mp__s3_parse_size(const char *s, uint64_t *out);

#endif
