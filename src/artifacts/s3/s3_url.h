/*
 * s3_url.h -- request URLs as SigV4 wants them.
 *
 * libcurl 7.88 signs the path and the query exactly as they appear in the
 * URL (it neither sorts nor encodes them), so the URL must already be in
 * canonical form:
 *   - the path: every byte outside A-Z a-z 0-9 - _ . ~ and '/' as %XX
 *     (upper-case hex), each byte of a UTF-8 key encoded once;
 *   - the query: parameters sorted by name, names and values encoded the
 *     same way ('/' included), a parameter without a value written
 *     `name=` (`?uploads=`, never `?uploads`).
 * The server recomputes the same form from what it decodes, so keys with
 * spaces, '+', unicode or '%' sign and travel correctly.
 */
#ifndef MP_ARTIFACTS_S3_URL_H
#define MP_ARTIFACTS_S3_URL_H

#include "artifacts/s3/s3_config.h"
#include "core/strbuf.h"

#include <stdbool.h>
#include <stddef.h>

/* Appends `s` percent-encoded for SigV4; '/' is kept when keep_slash. */
void mp__s3_uri_encode(mp_strbuf *sb, const char *s, bool keep_slash);

/* Decodes %XX escapes of s[0..n) ('+' means a space when plus_is_space)
 * into a new string. Returns NULL when an escape is malformed or decodes
 * to a NUL byte. */
char *mp__s3_pct_decode(const char *s, size_t n, bool plus_is_space);

/* Query parameters: up to MP_S3_QUERY_MAX, values may be "" (not NULL). */
#define MP_S3_QUERY_MAX 8
typedef struct mp_s3_query {
    const char *name[MP_S3_QUERY_MAX];
    const char *value[MP_S3_QUERY_MAX];
    int n;
} mp_s3_query;

void mp__s3_query_add(mp_s3_query *q, const char *name, const char *value);

/* The URL of `object_key` (NULL or "" for the bucket itself) with the
 * canonical query `q` (may be NULL), for config `c`; malloc'd. */
char *mp__s3_request_url(const mp_s3_config *c, const char *object_key, const mp_s3_query *q);

#endif
