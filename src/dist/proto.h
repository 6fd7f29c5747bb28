/*
 * proto.h -- the messages of a distributed run, as versioned JSON, and the
 * codec that checks them (DESIGN §3). Pure: no I/O here (hiredis keeps its
 * reader apart from the socket; so do we).
 *
 * Every message is one JSON object:
 *   {"v": 1, "run": "<run-id>", "type": "registration|assignment|result|control", ...}
 *   registration: instance, worker, capabilities ("k=v,..."), slots,
 *                 pipeline_hash, version
 *   assignment:   module, class, token ("<worker>#<attempt>"), attempt
 *   result:       module, token, result: {status, attempts, exit_code,
 *                 term_signal, instance, worker, started_at, ended_at,
 *                 duration_ms, outputs: {k: v}, skip_reason,
 *                 error: {message, log_tail}, artifacts: [{name, digest,
 *                 size, file_count, files}]} -- artifacts optional on
 *                 decode; files sent while all lists of a message stay
 *                 under MP_PROTO_ARTIFACT_FILES_MAX bytes, else [] (the
 *                 consumer needs the digest only)
 *   control:      action ("cancel" | "complete"), reason
 * Keys not listed are ignored (additions within a version); a missing or
 * mistyped listed key is malformed.
 *
 * mp__proto_decode refuses, with a message saying which: more than
 * MP_PROTO_MAX_BYTES (MP_ETOOBIG), bytes that are not one JSON object or
 * are cut short (MP_EPARSE), another protocol version or a run id other
 * than the expected one (MP_EINVAL, naming both values), and missing or
 * mistyped fields (MP_EPARSE, naming the field).
 *
 * Ownership: a decoded message owns its strings in msg->arena, released
 * by mp__proto_msg_release. A message built by the caller for encoding
 * has arena NULL and borrows every string. Thread-safe (no shared state).
 */
#ifndef MP_DIST_PROTO_H
#define MP_DIST_PROTO_H

#include "core/arena.h"
#include "core/result.h"
#include "modpipe.h"

#include <stddef.h>

#define MP_PROTO_VERSION   1
#define MP_PROTO_MAX_BYTES (1024 * 1024)
#define MP_PROTO_ARTIFACT_FILES_MAX (256 * 1024)
/* log_tail is cut to its last MP_PROTO_LOG_TAIL_MAX bytes on encode. */
#define MP_PROTO_LOG_TAIL_MAX (64 * 1024)

typedef enum mp_proto_type {
    MP_PROTO_REGISTRATION,
    MP_PROTO_ASSIGNMENT,
    MP_PROTO_RESULT,
    MP_PROTO_CONTROL,
} mp_proto_type;

typedef enum mp_proto_action {
    MP_PROTO_CANCEL,
    MP_PROTO_COMPLETE,
} mp_proto_action;

typedef struct mp_proto_msg {
    mp_proto_type type;
    const char *run_id;
    union {
        struct {
            int instance;
            const char *worker;
            const char *capabilities;
            int slots;
            const char *pipeline_hash;
            const char *version;
        } reg;
        struct {
            const char *module;
            const char *cls;
            const char *token;
            int attempt;
        } assign;
        struct {
            const char *module;
            const char *token;
            mp_result result; /* log_path is not carried */
        } res;
        struct {
            mp_proto_action action;
            const char *reason;
        } ctl;
    } u;
    mp_arena *arena; /* owner of decoded strings; NULL when built by the caller */
} mp_proto_msg;

const char *mp__proto_type_name(mp_proto_type t);

/* Encode into a NUL-terminated compact JSON string, the caller's (free).
 * MP_EINVAL for a message missing a required string, MP_ETOOBIG when the
 * encoding exceeds MP_PROTO_MAX_BYTES. */
int mp__proto_encode(const mp_proto_msg *msg, char **out, mp_error *err);

/* Decode and check `len` bytes. expect_run: the run id this process
 * belongs to (NULL accepts any run -- for tools, never for a run). On
 * success *msg must be released with mp__proto_msg_release; on failure
 * there is nothing to release. */
int mp__proto_decode(const char *buf, size_t len, const char *expect_run, mp_proto_msg *msg,
                     mp_error *err);

void mp__proto_msg_release(mp_proto_msg *msg); /* NULL-safe, idempotent */

#endif
