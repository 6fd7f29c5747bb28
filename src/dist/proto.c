/* proto.c -- see proto.h. Encoding and decoding go through jansson. */
#include "dist/proto.h"
#include "core/error.h"
#include "core/xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"registration", "assignment", "result", "control"};
static const char *const action_names[] = {"cancel", "complete"};

const char *mp__proto_type_name(mp_proto_type t)
{
    return (unsigned)t < 4 ? type_names[t] : "unknown";
}

/* ---------------------------------------------------------------- encode */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int need(const char *s, const char *field, mp_error *err)
{
    if (!s) return mp__error(err, MP_EINVAL, "", "cannot encode message: %s missing", field);
    return 0;
}

/* A result's artifacts: name, digest, size, file_count, and the file list
 * while all lists together stay under MP_PROTO_ARTIFACT_FILES_MAX bytes
 * (a message is at most MP_PROTO_MAX_BYTES; consumers need only the
 * digest). */
static json_t *encode_artifacts(const mp_result *r)
{
    json_t *arts = json_array();
    size_t budget = MP_PROTO_ARTIFACT_FILES_MAX;
    for (size_t i = 0; i < r->artifacts.n; i++) {
        const mp_artifact_ref *ar = &r->artifacts.v[i];
        size_t need = 0;
        for (size_t f = 0; f < ar->nfiles; f++) need += strlen(ar->files[f]) + 4;
        json_t *files = json_array();
        if (need <= budget) {
            budget -= need;
            for (size_t f = 0; f < ar->nfiles; f++)
                json_array_append_new(files, json_string(ar->files[f]));
        }
        json_array_append_new(arts, json_pack("{s:s,s:s,s:I,s:I,s:o}", "name", ar->name, "digest",
                                              ar->digest, "size", (json_int_t)ar->size,
                                              "file_count", (json_int_t)ar->nfiles, "files",
                                              files));
    }
    return arts;
}

static json_t *encode_result(const mp_result *r)
{
    json_t *outs = json_object();
    for (size_t i = 0; i < r->outputs.n; i++)
        json_object_set_new(outs, r->outputs.v[i].key.s, json_string(r->outputs.v[i].value.s));
    const char *tail = r->log_tail;
    if (tail && strlen(tail) > MP_PROTO_LOG_TAIL_MAX) tail += strlen(tail) - MP_PROTO_LOG_TAIL_MAX;
    json_t *error = json_pack("{s:o,s:o}", "message", str_or_null(r->error_message), "log_tail",
                              str_or_null(tail));
    json_t *o = json_pack("{s:s,s:i,s:i,s:i,s:i,s:o,s:I,s:I,s:I,s:o,s:o,s:o}", "status",
                          mp__status_name(r->status), "attempts", r->attempts, "exit_code",
                          r->exit_code, "term_signal", r->term_signal, "instance", r->instance,
                          "worker", str_or_null(r->worker), "started_at",
                          (json_int_t)r->started_at, "ended_at", (json_int_t)r->ended_at,
                          "duration_ms", (json_int_t)r->duration_ms, "outputs", outs,
                          "skip_reason", str_or_null(r->skip_reason), "error", error);
    json_object_set_new(o, "artifacts", encode_artifacts(r));
    return o;
}

int mp__proto_encode(const mp_proto_msg *msg, char **out, mp_error *err)
{
    int rc = need(msg->run_id, "run", err);
    json_t *o = NULL;
    switch (msg->type) {
    case MP_PROTO_REGISTRATION:
        if (rc == 0 && (rc = need(msg->u.reg.worker, "worker", err)) == 0 &&
            (rc = need(msg->u.reg.pipeline_hash, "pipeline_hash", err)) == 0 &&
            (rc = need(msg->u.reg.version, "version", err)) == 0)
            o = json_pack("{s:i,s:s,s:o,s:i,s:s,s:s}", "instance", msg->u.reg.instance, "worker",
                          msg->u.reg.worker, "capabilities",
                          json_string(msg->u.reg.capabilities ? msg->u.reg.capabilities : ""),
                          "slots", msg->u.reg.slots, "pipeline_hash", msg->u.reg.pipeline_hash,
                          "version", msg->u.reg.version);
        break;
    case MP_PROTO_ASSIGNMENT:
        if (rc == 0 && (rc = need(msg->u.assign.module, "module", err)) == 0 &&
            (rc = need(msg->u.assign.token, "token", err)) == 0)
            o = json_pack("{s:s,s:o,s:s,s:i}", "module", msg->u.assign.module, "class",
                          json_string(msg->u.assign.cls ? msg->u.assign.cls : ""), "token",
                          msg->u.assign.token, "attempt", msg->u.assign.attempt);
        break;
    case MP_PROTO_RESULT:
        if (rc == 0 && (rc = need(msg->u.res.module, "module", err)) == 0 &&
            (rc = need(msg->u.res.token, "token", err)) == 0)
            o = json_pack("{s:s,s:s,s:o}", "module", msg->u.res.module, "token", msg->u.res.token,
                          "result", encode_result(&msg->u.res.result));
        break;
    case MP_PROTO_CONTROL:
        if (rc == 0 && (unsigned)msg->u.ctl.action > MP_PROTO_COMPLETE)
            rc = mp__error(err, MP_EINVAL, "", "cannot encode message: bad control action");
        if (rc == 0)
            o = json_pack("{s:s,s:o}", "action", action_names[msg->u.ctl.action], "reason",
                          str_or_null(msg->u.ctl.reason));
        break;
    default:
        if (rc == 0)
            rc = mp__error(err, MP_EINVAL, "", "cannot encode message: unknown type %d",
                           (int)msg->type);
    }
    if (rc < 0) return rc;
    if (!o) /* json_pack fails only on invalid UTF-8 in a string */
        return mp__error(err, MP_EINVAL, "", "cannot encode %s message: a string is not UTF-8",
                         mp__proto_type_name(msg->type));
    json_object_set_new(o, "v", json_integer(MP_PROTO_VERSION));
    json_object_set_new(o, "run", json_string(msg->run_id));
    json_object_set_new(o, "type", json_string(type_names[msg->type]));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!s) mp__die("out of memory encoding a message");
    if (strlen(s) > MP_PROTO_MAX_BYTES) {
        free(s);
        return mp__error(err, MP_ETOOBIG, "", "%s message over %d bytes",
                         mp__proto_type_name(msg->type), MP_PROTO_MAX_BYTES);
    }
    *out = s;
    return 0;
}

/* ---------------------------------------------------------------- decode */

typedef struct dec {
    mp_arena *a;
    mp_error *err;
    const char *type;
} dec;

static int bad(dec *d, const char *field, const char *what)
{
    return mp__error(d->err, MP_EPARSE, "", "malformed %s message: '%s' %s", d->type, field, what);
}

/* A string field; nullable => null or absent gives NULL. */
static int get_str(dec *d, json_t *o, const char *key, bool nullable, const char **out)
{
    json_t *v = json_object_get(o, key);
    if ((!v || json_is_null(v)) && nullable) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v)) return bad(d, key, v ? "is not a string" : "is missing");
    *out = mp__arena_strndup(d->a, json_string_value(v), json_string_length(v));
    if (strlen(*out) != json_string_length(v)) return bad(d, key, "contains a NUL byte");
    return 0;
}

static int get_i64(dec *d, json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) return bad(d, key, v ? "is not an integer" : "is missing");
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi) return bad(d, key, "is out of range");
    *out = (int64_t)i;
    return 0;
}

static int get_int(dec *d, json_t *o, const char *key, int lo, int hi, int *out)
{
    int64_t v = 0;
    int rc = get_i64(d, o, key, lo, hi, &v);
    if (rc == 0) *out = (int)v;
    return rc;
}

static int get_status(dec *d, json_t *o, mp_status *out)
{
    const char *s = NULL;
    int rc = get_str(d, o, "status", false, &s);
    if (rc < 0) return rc;
    for (int i = MP_STATUS_PENDING; i <= MP_STATUS_CANCELLED; i++) {
        if (strcmp(s, mp__status_name((mp_status)i)) == 0 && mp__status_terminal((mp_status)i)) {
            *out = (mp_status)i;
            return 0;
        }
    }
    return bad(d, "status", "is not a final module status");
}

/* "artifacts" is optional (absent: none, as before it existed). */
static int decode_artifacts(dec *d, json_t *o, mp_result *r)
{
    json_t *arts = json_object_get(o, "artifacts");
    if (!arts) return 0;
    if (!json_is_array(arts)) return bad(d, "artifacts", "is not an array");
    size_t i;
    json_t *a;
    json_array_foreach(arts, i, a)
    {
        if (!json_is_object(a)) return bad(d, "artifacts", "has an item that is not an object");
        mp_artifact_ref ar = {0};
        int64_t size = 0, count = 0;
        int rc;
        if ((rc = get_str(d, a, "name", false, &ar.name)) < 0 ||
            (rc = get_str(d, a, "digest", false, &ar.digest)) < 0 ||
            (rc = get_i64(d, a, "size", 0, INT64_MAX, &size)) < 0 ||
            (rc = get_i64(d, a, "file_count", 0, INT64_MAX, &count)) < 0)
            return rc;
        if (strncmp(ar.digest, "sha256:", 7) != 0 || strlen(ar.digest) != 71)
            return bad(d, "digest", "is not sha256:<64 hex digits>");
        ar.size = (uint64_t)size;
        json_t *files = json_object_get(a, "files");
        if (!json_is_array(files)) return bad(d, "files", files ? "is not an array" : "is missing");
        ar.nfiles = json_array_size(files);
        ar.files = mp__arena_alloc(d->a, (ar.nfiles ? ar.nfiles : 1) * sizeof(char *));
        for (size_t f = 0; f < ar.nfiles; f++) {
            json_t *v = json_array_get(files, f);
            if (!json_is_string(v)) return bad(d, "files", "has an item that is not a string");
            ar.files[f] = mp__arena_strdup(d->a, json_string_value(v));
        }
        MP_VEC_PUSH(d->a, &r->artifacts, ar);
    }
    return 0;
}

static int decode_result(dec *d, json_t *o, mp_result *r)
{
    if (!json_is_object(o)) return bad(d, "result", o ? "is not an object" : "is missing");
    mp__result_init(r);
    int rc;
    if ((rc = get_status(d, o, &r->status)) < 0 ||
        (rc = get_int(d, o, "attempts", 0, 1000000, &r->attempts)) < 0 ||
        (rc = get_int(d, o, "exit_code", -1, 255, &r->exit_code)) < 0 ||
        (rc = get_int(d, o, "term_signal", 0, 255, &r->term_signal)) < 0 ||
        (rc = get_int(d, o, "instance", -1, 1000000, &r->instance)) < 0 ||
        (rc = get_str(d, o, "worker", true, &r->worker)) < 0 ||
        (rc = get_i64(d, o, "started_at", 0, INT64_MAX, &r->started_at)) < 0 ||
        (rc = get_i64(d, o, "ended_at", 0, INT64_MAX, &r->ended_at)) < 0 ||
        (rc = get_i64(d, o, "duration_ms", 0, INT64_MAX, &r->duration_ms)) < 0 ||
        (rc = get_str(d, o, "skip_reason", true, &r->skip_reason)) < 0)
        return rc;
    json_t *outs = json_object_get(o, "outputs");
    if (!json_is_object(outs)) return bad(d, "outputs", outs ? "is not an object" : "is missing");
    const char *k;
    json_t *v;
    json_object_foreach(outs, k, v)
    {
        if (!json_is_string(v)) return bad(d, "outputs", "has a value that is not a string");
        mp_kv kv = {0};
        kv.key.s = mp__arena_strdup(d->a, k);
        kv.value.s = mp__arena_strndup(d->a, json_string_value(v), json_string_length(v));
        MP_VEC_PUSH(d->a, &r->outputs, kv);
    }
    if ((rc = decode_artifacts(d, o, r)) < 0) return rc;
    json_t *e = json_object_get(o, "error");
    if (!json_is_object(e)) return bad(d, "error", e ? "is not an object" : "is missing");
    if ((rc = get_str(d, e, "message", true, &r->error_message)) < 0 ||
        (rc = get_str(d, e, "log_tail", true, &r->log_tail)) < 0)
        return rc;
    return 0;
}

static int decode_body(dec *d, json_t *o, mp_proto_msg *m)
{
    int rc = 0;
    switch (m->type) {
    case MP_PROTO_REGISTRATION:
        if ((rc = get_int(d, o, "instance", 0, 1000000, &m->u.reg.instance)) < 0 ||
            (rc = get_str(d, o, "worker", false, &m->u.reg.worker)) < 0 ||
            (rc = get_str(d, o, "capabilities", false, &m->u.reg.capabilities)) < 0 ||
            (rc = get_int(d, o, "slots", 1, 1000000, &m->u.reg.slots)) < 0 ||
            (rc = get_str(d, o, "pipeline_hash", false, &m->u.reg.pipeline_hash)) < 0 ||
            (rc = get_str(d, o, "version", false, &m->u.reg.version)) < 0)
            return rc;
        break;
    case MP_PROTO_ASSIGNMENT:
        if ((rc = get_str(d, o, "module", false, &m->u.assign.module)) < 0 ||
            (rc = get_str(d, o, "class", false, &m->u.assign.cls)) < 0 ||
            (rc = get_str(d, o, "token", false, &m->u.assign.token)) < 0 ||
            (rc = get_int(d, o, "attempt", 1, 1000000, &m->u.assign.attempt)) < 0)
            return rc;
        break;
    case MP_PROTO_RESULT:
        if ((rc = get_str(d, o, "module", false, &m->u.res.module)) < 0 ||
            (rc = get_str(d, o, "token", false, &m->u.res.token)) < 0 ||
            (rc = decode_result(d, json_object_get(o, "result"), &m->u.res.result)) < 0)
            return rc;
        break;
    case MP_PROTO_CONTROL: {
        const char *a = NULL;
        if ((rc = get_str(d, o, "action", false, &a)) < 0 ||
            (rc = get_str(d, o, "reason", true, &m->u.ctl.reason)) < 0)
            return rc;
        if (strcmp(a, "cancel") == 0)
            m->u.ctl.action = MP_PROTO_CANCEL;
        else if (strcmp(a, "complete") == 0)
            m->u.ctl.action = MP_PROTO_COMPLETE;
        else
            return bad(d, "action", "is neither cancel nor complete");
        break;
    }
    }
    return 0;
}

static int decode_object(dec *d, json_t *o, const char *expect_run, mp_proto_msg *m)
{
    if (!json_is_object(o))
        return mp__error(d->err, MP_EPARSE, "", "malformed message: not a JSON object");
    json_t *v = json_object_get(o, "v");
    if (!json_is_integer(v))
        return mp__error(d->err, MP_EPARSE, "", "malformed message: no protocol version 'v'");
    if (json_integer_value(v) != MP_PROTO_VERSION)
        return mp__error(d->err, MP_EINVAL, "",
                         "message of protocol version %" JSON_INTEGER_FORMAT
                         ", this modpipe speaks version %d",
                         json_integer_value(v), MP_PROTO_VERSION);
    const char *type = json_string_value(json_object_get(o, "type"));
    int t = -1;
    for (int i = 0; type && i < 4; i++)
        if (strcmp(type, type_names[i]) == 0) t = i;
    if (t < 0)
        return mp__error(d->err, MP_EPARSE, "", "malformed message: unknown type '%s'",
                         type ? type : "(none)");
    m->type = (mp_proto_type)t;
    d->type = type_names[t];
    int rc = get_str(d, o, "run", false, &m->run_id);
    if (rc < 0) return rc;
    if (expect_run && strcmp(m->run_id, expect_run) != 0)
        return mp__error(d->err, MP_EINVAL, "",
                         "%s message from another run: run id '%.128s', this run is '%.128s'",
                         d->type, m->run_id, expect_run);
    return decode_body(d, o, m);
}

int mp__proto_decode(const char *buf, size_t len, const char *expect_run, mp_proto_msg *msg,
                     mp_error *err)
{
    memset(msg, 0, sizeof *msg);
    if (len > MP_PROTO_MAX_BYTES)
        return mp__error(err, MP_ETOOBIG, "", "message of %zu bytes refused (limit %d)", len,
                         MP_PROTO_MAX_BYTES);
    json_error_t je;
    json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return mp__error(err, MP_EPARSE, "", "malformed message at byte %d: %s", je.position,
                         je.text);
    dec d = {mp__arena_new(), err, "?"};
    msg->arena = d.a;
    int rc = decode_object(&d, o, expect_run, msg);
    json_decref(o);
    if (rc < 0) mp__proto_msg_release(msg);
    return rc;
}

void mp__proto_msg_release(mp_proto_msg *msg)
{
    if (!msg) return;
    mp__arena_free(msg->arena);
    memset(msg, 0, sizeof *msg);
}
