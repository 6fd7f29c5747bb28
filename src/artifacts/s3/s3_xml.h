/*
 * s3_xml.h -- a small, bounded reader for S3's XML responses.
 *
 * S3 answers with flat documents (Error, ListBucketResult,
 * InitiateMultipartUploadResult, CompleteMultipartUploadResult): elements,
 * text, no namespaces that matter, no DTD. This reader accepts exactly
 * well-formed XML of that kind and turns it into a flat array of elements
 * in document order, each with its depth, parent and decoded text:
 *   - an optional `<?xml ...?>` prolog, comments, CDATA sections;
 *   - start/end/empty tags with attributes (attributes are skipped);
 *   - the five predefined entities and &#N; / &#xH; references.
 * Anything else is refused with MP_EPARSE and a message saying what and at
 * which byte: a DOCTYPE (an HTML page most of the time), mismatched tags,
 * text outside the root, unknown entities, more than MP_S3_XML_MAX_DEPTH
 * levels or MP_S3_XML_MAX_NODES elements, a body over MP_S3_XML_MAX_BYTES.
 *
 * Ownership: mp__s3_xml_parse fills a caller-owned struct that owns all its
 * strings; mp__s3_xml_release frees it (NULL-safe, idempotent).
 */
#ifndef MP_ARTIFACTS_S3_XML_H
#define MP_ARTIFACTS_S3_XML_H

#include "modpipe.h"

#include <stddef.h>

#define MP_S3_XML_MAX_BYTES (8u << 20)
#define MP_S3_XML_MAX_DEPTH 16
#define MP_S3_XML_MAX_NODES 200000

typedef struct mp_s3_xml_node {
    const char *name; /* element name, prefix included ("a:b") */
    const char *text; /* decoded character data directly inside ("" if none) */
    int parent;       /* index of the parent, -1 for the root */
} mp_s3_xml_node;

typedef struct mp_s3_xml {
    mp_s3_xml_node *nodes; /* nodes[0] is the root */
    size_t n;
    char *arena;
} mp_s3_xml;

int mp__s3_xml_parse(mp_s3_xml *x, const char *buf, size_t len, mp_error *err);
void mp__s3_xml_release(mp_s3_xml *x);

/* The index of the first child of `parent` named `name` after index
 * `after` (-1 to start), or -1. */
int mp__s3_xml_child(const mp_s3_xml *x, int parent, const char *name, int after);
/* The text of the first child of `parent` named `name`, or NULL. */
const char *mp__s3_xml_child_text(const mp_s3_xml *x, int parent, const char *name);

#endif
