/*
 * s3_client_int.h -- what the files of the S3 client share (internal to
 * src/artifacts/s3/): the client struct and its session pool.
 *
 * The pool: idle sessions on a stack under `mu`. A call takes one (or
 * makes one) for its duration and gives it back, so concurrent calls on
 * one client each have their own curl multi handle, and a later call
 * reuses the connections of an earlier one.
 */
#ifndef MP_ARTIFACTS_S3_CLIENT_INT_H
#define MP_ARTIFACTS_S3_CLIENT_INT_H

#include "artifacts/s3/s3_client.h"
#include "artifacts/s3/s3_http.h"

#include <pthread.h>

#define MP_S3_POOL_MAX 8 /* idle sessions kept; more are freed on release */

/* Keys being uploaded by this client: a second put of the same key waits
 * for the first (see mp__s3_put_file in s3_object.c). */
typedef struct mp_s3_putting {
    char **keys;
    size_t n, cap;
} mp_s3_putting;

struct mp_s3_client {
    mp_s3_config cfg;
    pthread_mutex_t mu; /* guards idle, nidle, putting */
    pthread_cond_t put_done; /* CLOCK_MONOTONIC */
    mp_s3_session *idle[MP_S3_POOL_MAX];
    int nidle;
    mp_s3_putting putting;
};

mp_s3_session *mp__s3_session_take(mp_s3_client *c);
void mp__s3_session_give(mp_s3_client *c, mp_s3_session *s);

/* "METHOD s3://bucket/object_key" for messages; malloc'd. */
char *mp__s3_what(const mp_s3_client *c, const char *method, const char *object_key);

/* Runs one request on a session of the pool. */
int mp__s3_run_one(mp_s3_client *c, mp_s3_req *r, int64_t deadline, mp_error *err);

/* Multipart upload of fd (size bytes) as object_key (s3_multipart.c). */
int mp__s3_put_multipart(mp_s3_client *c, const char *object_key, int fd, uint64_t size,
                         int64_t deadline, mp_error *err);

#endif
