/*
 * pipeline_json.h -- a validated pipeline as JSON (jansson).
 *
 * The one serialisation of the model: `modpipe graph --format json` prints
 * it, and the canonical pipeline hash is the sha256 of its compact,
 * key-sorted dump with positions left out. Every field of every expanded
 * module is present, unset values included (as null / [] / {} / -1), so a
 * reader sees exactly what was parsed.
 */
#ifndef MP_CORE_PIPELINE_JSON_H
#define MP_CORE_PIPELINE_JSON_H

#include "core/model.h"

#include <jansson.h>

/* New reference. with_positions adds "pos": "file:line:col" per module. */
json_t *mp__pipeline_to_json(const mp_pipeline *p, int with_positions);

/* The canonical text of p: byte for byte what
 * json_dumps(mp__pipeline_to_json(p, 0), JSON_COMPACT | JSON_SORT_KEYS)
 * returns, handed to sink in pieces, but written directly (a 10,000-module
 * pipeline in milliseconds instead of building half a million values). */
typedef void (*mp_json_sink)(const char *s, size_t n, void *data);
void mp__pipeline_canonical(const mp_pipeline *p, mp_json_sink sink, void *data);

#endif
