/*
 * s3_retry.h -- judging one attempt of an S3 request, and the backoff
 * between attempts (internal to src/artifacts/s3/).
 *
 * Transient (retried): HTTP 5xx and 429; S3 codes RequestTimeout,
 * SlowDown, InternalError, ServiceUnavailable (S3 may send them with a
 * 200 for CompleteMultipartUpload); curl's connection, send/receive,
 * empty-reply, partial-transfer and per-attempt timeout errors.
 * Permanent: every other status (403 bad credentials, 404, 400 ...), a
 * body that is not S3's (HTML, garbage), our own file errors, the
 * deadline.
 *
 * The message of a failure says what failed first ("PUT s3://b/k"), then
 * the HTTP status, S3's error code and message, and a hint where one
 * helps (which variable to check); the run loop adds how many attempts
 * were made.
 */
#ifndef MP_ARTIFACTS_S3_RETRY_H
#define MP_ARTIFACTS_S3_RETRY_H

#include "artifacts/s3/s3_http.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum { MP_S3_OK, MP_S3_RETRY, MP_S3_FAIL } mp_s3_verdict;

/* Judges the attempt that just ended with curl result `res` (a CURLcode)
 * and curl's error text; fills err for RETRY and FAIL. */
mp_s3_verdict mp__s3_judge(mp_s3_req *r, int res, const char *curl_text, const mp_s3_config *cfg,
                           int64_t deadline, mp_error *err);

/* Wait before attempt `attempt`+1: 200 ms doubling per attempt, capped
 * at 5 s, of which a random half (from `rnd`) is jitter. */
int64_t mp__s3_backoff_ms(int attempt, uint64_t rnd);

/* The retries are used up (or the next one would pass the deadline):
 * err's message gets how many attempts were made. Returns the code. */
int mp__s3_fail_after_retries(mp_s3_req *r, mp_error *err, bool deadline);
/* The deadline passed while r (may be NULL) was pending or running. */
int mp__s3_fail_deadline(mp_s3_req *r, mp_error *err);

/* The message for an S3 error answer of `status` with the body of r. */
int mp__s3_http_error(mp_s3_req *r, const mp_s3_config *cfg, bool *retryable, mp_error *err);

#endif
