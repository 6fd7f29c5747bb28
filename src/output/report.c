/*
 * report.c -- see report.h. The JSON is built with jansson (objects keep
 * insertion order, so keys appear as in DESIGN §5) and dumped once.
 */
#include "output/report.h"

#include "core/error.h"
#include "core/xalloc.h"
#include "output/metrics.h"
#include "output/outfmt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t epoch_ms)
{
    char buf[MP_FMT_BUFSZ];
    return epoch_ms > 0 ? json_string(mp__fmt_iso8601(buf, epoch_ms)) : json_null();
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80                 ? 1
               : c >= 0xC2 && c <= 0xDF ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    if (n == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))) return 0;
    if (n == 4 && ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))) return 0;
    return n;
}

/* A JSON string of s; json_string() refuses invalid UTF-8, and module
 * output may be anything: invalid bytes become "?". */
static json_t *text(const char *s)
{
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    size_t len = strlen(s);
    char *copy = mp__xmalloc(len + 1);
    const unsigned char *c = (const unsigned char *)s;
    size_t o = 0;
    while (*c) {
        size_t n = utf8_seq(c);
        if (n == 0) {
            copy[o++] = '?';
            c++;
            continue;
        }
        memcpy(copy + o, c, n);
        o += n;
        c += n;
    }
    copy[o] = '\0';
    j = json_string(copy);
    free(copy);
    return j ? j : json_string("?");
}

static json_t *local_instance(void)
{
    json_t *caps = json_object();
    struct utsname u;
    if (uname(&u) == 0) {
        char os[sizeof(u.sysname)];
        if (strcmp(u.sysname, "Darwin") == 0)
            snprintf(os, sizeof(os), "macos");
        else {
            size_t k = 0;
            for (; u.sysname[k] && k + 1 < sizeof(os); k++)
                os[k] = (char)tolower((unsigned char)u.sysname[k]);
            os[k] = '\0';
        }
        const char *arch = u.machine;
        if (strcmp(arch, "aarch64") == 0) arch = "arm64";
        if (strcmp(arch, "amd64") == 0) arch = "x86_64";
        json_object_set_new(caps, "os", text(os));
        json_object_set_new(caps, "arch", text(arch));
    }
    char host[256];
    json_t *hostname = json_null();
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        json_decref(hostname);
        hostname = text(host);
    }
    json_t *inst = json_object();
    json_object_set_new(inst, "index", json_integer(0));
    json_object_set_new(inst, "capabilities", caps);
    json_object_set_new(inst, "hostname", hostname);
    return inst;
}

static json_t *instances_json(const mp_report_info *info)
{
    json_t *a = json_array();
    if (!info || !info->instances || info->ninstances == 0) {
        json_array_append_new(a, local_instance());
        return a;
    }
    for (size_t k = 0; k < info->ninstances; k++) {
        const mp_report_instance *in = &info->instances[k];
        json_t *caps = json_object();
        for (size_t c = 0; c < in->ncapabilities; c++)
            if (in->capabilities[c].key)
                json_object_set_new(caps, in->capabilities[c].key, text(in->capabilities[c].value));
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer(in->index));
        json_object_set_new(o, "capabilities", caps);
        json_object_set_new(o, "hostname", text(in->hostname));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *error_json(const mp_result *r)
{
    int failed = r->status == MP_STATUS_FAILED || r->status == MP_STATUS_TIMED_OUT ||
                 r->status == MP_STATUS_IGNORED_FAILURE;
    if (!failed && !(r->error_message && *r->error_message)) return json_null();
    json_t *e = json_object();
    json_object_set_new(e, "message", text(r->error_message));
    json_object_set_new(e, "log_tail", text(r->log_tail));
    return e;
}

static json_t *module_json(const mp_pipeline *p, size_t i, const mp_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "module", text(p->modules.v[i]->name));
    json_object_set_new(o, "status", json_string(mp__status_name(r->status)));
    json_object_set_new(o, "attempts", json_integer(r->attempts));
    json_object_set_new(o, "exit_code",
                        r->exit_code >= 0 ? json_integer(r->exit_code) : json_null());
    json_object_set_new(o, "instance", r->instance >= 0 ? json_integer(r->instance) : json_null());
    json_object_set_new(o, "worker", text(r->worker));
    json_object_set_new(o, "started_at", time_or_null(r->started_at));
    json_object_set_new(o, "ended_at", time_or_null(r->ended_at));
    json_object_set_new(o, "duration_ms", json_integer(r->duration_ms > 0 ? r->duration_ms : 0));
    json_t *outputs = json_object();
    for (size_t k = 0; k < r->outputs.n; k++)
        if (r->outputs.v[k].key.s)
            json_object_set_new(outputs, r->outputs.v[k].key.s, text(r->outputs.v[k].value.s));
    json_object_set_new(o, "outputs", outputs);
    json_t *arts = json_array();
    for (size_t k = 0; k < r->artifacts.n; k++) {
        const mp_artifact_ref *ar = &r->artifacts.v[k];
        json_t *files = json_array();
        for (size_t f = 0; f < ar->nfiles; f++) json_array_append_new(files, text(ar->files[f]));
        json_array_append_new(arts, json_pack("{s:o, s:o, s:I, s:o}", "name", text(ar->name),
                                              "digest", text(ar->digest), "size",
                                              (json_int_t)ar->size, "files", files));
    }
    json_object_set_new(o, "artifacts", arts);
    json_object_set_new(o, "skip_reason", text(r->skip_reason));
    json_object_set_new(o, "error", error_json(r));
    return o;
}

char *mp__report_dumps(const mp_pipeline *p, const mp_run *run, const mp_report_info *info)
{
    mp_metrics m;
    mp__metrics_compute(run, &m);

    json_t *root = json_object();
    json_object_set_new(root, "schema", json_string(MP_REPORT_SCHEMA));
    json_object_set_new(root, "run_id", text(info ? info->run_id : NULL));
    json_t *pl = json_object();
    json_object_set_new(pl, "name", text(p->name));
    json_object_set_new(pl, "hash", str_or_null(p->hash));
    json_object_set_new(root, "pipeline", pl);
    json_object_set_new(
        root, "status",
        json_string(run->interrupted_by ? "cancelled" : mp__status_name(run->verdict)));
    json_object_set_new(root, "started_at", time_or_null(run->started_at));
    json_object_set_new(root, "ended_at", time_or_null(run->ended_at));
    json_object_set_new(root, "duration_ms", json_integer(m.wall_ms));
    json_object_set_new(root, "instances", instances_json(info));
    json_t *mods = json_array();
    for (size_t i = 0; i < run->n && i < p->modules.n; i++)
        json_array_append_new(mods, module_json(p, i, &run->results[i]));
    json_object_set_new(root, "modules", mods);
    json_t *mj = json_object();
    json_object_set_new(mj, "wall_ms", json_integer(m.wall_ms));
    json_object_set_new(mj, "module_ms_total", json_integer(m.module_ms_total));
    json_object_set_new(mj, "speedup", json_real(m.speedup));
    json_object_set_new(mj, "peak_concurrency", json_integer(m.peak_concurrency));
    json_object_set_new(root, "metrics", mj);

    char *s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    json_decref(root);
    if (!s) mp__die("report: out of memory");
    size_t n = strlen(s);
    char *out = mp__xmalloc(n + 2);
    memcpy(out, s, n);
    out[n] = '\n';
    out[n + 1] = '\0';
    free(s);
    return out;
}

int mp__report_write(const char *path, const mp_pipeline *p, const mp_run *run,
                     const mp_report_info *info, mp_error *err)
{
    char *json = mp__report_dumps(p, run, info);
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        free(json);
        return mp__error(err, MP_EIO, path, "cannot write report: path too long");
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        free(json);
        return mp__error(err, MP_EIO, path, "cannot write report: %s", strerror(e));
    }
    int e = mp__write_all(fd, json, strlen(json));
    free(json);
    if (!e && fsync(fd) < 0) e = errno;
    if (close(fd) < 0 && !e) e = errno;
    if (!e && rename(tmp, path) < 0) e = errno;
    if (e) {
        unlink(tmp);
        return mp__error(err, MP_EIO, path, "cannot write report: %s", strerror(e));
    }
    return 0;
}
