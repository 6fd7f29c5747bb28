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

#endif
