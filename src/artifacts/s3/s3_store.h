/*
 * s3_store.h -- the `s3://` artifact store (store.h) on the S3 client
 * (s3_client.h). Options and decisions: docs/artifacts-s3.md.
 *
 * open parses the URL and the AWS environment, then checks within the
 * open deadline that the bucket exists and the credentials are accepted
 * (one ListObjectsV2 of zero keys), so a wrong bucket or secret is
 * reported when the store is opened, naming the bucket.
 */
#ifndef MP_ARTIFACTS_S3_STORE_H
#define MP_ARTIFACTS_S3_STORE_H

#include "artifacts/store.h"

extern const mp_store_vtable mp__store_s3_vtable;

#endif
