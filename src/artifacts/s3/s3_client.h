/*
 * s3_client.h -- a small S3 client on libcurl (DESIGN §3.6): what the
 * s3:// artifact store is built on.
 *
 * Every call takes an absolute deadline (os/clock.h) and returns 0 or a
 * negative MP_E* code with `err` filled: what failed first (the request and
 * the object as s3://bucket/key), then the HTTP status, S3's error code and
 * message, and how many attempts were made. Codes: MP_ENOENT (no such
 * object; no such bucket says so and names the bucket), MP_ETIMEDOUT (the
 * deadline passed), MP_EPARSE (the endpoint answered something that is not
 * an S3 response: HTML, garbage XML), MP_EIO (anything else: refused
 * credentials, a server that kept failing after the retries, a local file
 * error), MP_EUSAGE (bad URL or missing credentials, from open).
 *
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4) with the real payload
 * sha256 (streamed from the file before the upload). Failed attempts are
 * retried with exponential backoff and jitter when the failure is
 * transient: HTTP 5xx, 429, S3's RequestTimeout/SlowDown/InternalError,
 * connection errors, timeouts of one attempt, truncated transfers -- up to
 * max_attempts tries and never past the deadline.
 *
 * Uploads stream from the file (memory stays flat): one PUT up to
 * multipart_threshold, above it a multipart upload whose parts go up
 * `parallel` at a time on one curl multi handle, each part signed with its
 * own sha256; a failed multipart upload is aborted (DELETE ?uploadId) so
 * no parts stay behind on the server. Downloads stream into a temporary
 * file next to the destination, renamed over it only when complete.
 *
 * Threads: a client may be used from several threads at once. It keeps a
 * pool of sessions (a curl multi handle and its easy handles, so their
 * connections are reused); each call takes one for its duration.
 *
 * Ownership: the client owns its configuration (secrets wiped on free);
 * keys and paths passed in are only read during the call.
 */
#ifndef MP_ARTIFACTS_S3_CLIENT_H
#define MP_ARTIFACTS_S3_CLIENT_H

#include "artifacts/s3/s3_config.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct mp_s3_client mp_s3_client;

/* Parses the URL and the environment (s3_config.h); no network traffic.
 * getenv_fn may be NULL (getenv). On failure *out is NULL. */
int mp__s3_client_open(mp_s3_client **out, const char *url, mp_s3_getenv_fn getenv_fn,
                       void *getenv_data, mp_error *err);
/* NULL-safe. No call may be running on the client. */
void mp__s3_client_free(mp_s3_client *c);
const mp_s3_config *mp__s3_client_config(const mp_s3_client *c);

/* Keys below are store keys: the URL's prefix is put in front of them. */

/* Checks that the bucket exists and the credentials are accepted:
 * MP_EUSAGE when the bucket does not exist (the message names it) or the
 * credentials are refused (HTTP 403), other codes as above. */
int mp__s3_check_bucket(mp_s3_client *c, int64_t deadline, mp_error *err);

/* Uploads the file at `path` as `key` (replacing any object). */
int mp__s3_put_file(mp_s3_client *c, const char *key, const char *path, int64_t deadline,
                    mp_error *err);

/* Downloads `key` into `dest` (temp file + rename; nothing is left at dest
 * or beside it on failure). MP_ENOENT when there is no such object. When
 * size_out is not NULL it gets the number of bytes written. */
int mp__s3_get_file(mp_s3_client *c, const char *key, const char *dest, uint64_t *size_out,
                    int64_t deadline, mp_error *err);

/* Whether `key` exists (HEAD); its size when it does (size may be NULL). */
int mp__s3_head(mp_s3_client *c, const char *key, bool *exists, uint64_t *size,
                int64_t deadline, mp_error *err);

/* Deletes `key`; a key that does not exist is not an error. */
int mp__s3_delete(mp_s3_client *c, const char *key, int64_t deadline, mp_error *err);

/* Calls cb(key, size, data) for every key starting with `key_prefix`
 * (store keys, the URL prefix removed), in S3's order (UTF-8 binary),
 * following continuation tokens. A non-zero return of cb stops the
 * listing and is returned. */
typedef int (*mp_s3_list_fn)(const char *key, uint64_t size, void *data);
int mp__s3_list(mp_s3_client *c, const char *key_prefix, mp_s3_list_fn cb, void *data,
                int64_t deadline, mp_error *err);

#endif
