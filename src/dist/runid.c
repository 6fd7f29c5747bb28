/* runid.c -- see runid.h. */
#include "dist/runid.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mp__env_getenv(const char *name, void *data)
{
    (void)data;
    return getenv(name);
}

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("._:@+=-", c) != NULL);
}

int mp__runid_check(const char *id, mp_error *err)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0) return mp__error(err, MP_EINVAL, "", "empty run id");
    if (n > MP_RUN_ID_MAX)
        return mp__error(err, MP_EINVAL, "", "run id longer than %d bytes", MP_RUN_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (!id_char(id[i]))
            return mp__error(err, MP_EINVAL, "",
                             "run id '%.128s': byte %zu (0x%02x) is not one of "
                             "[A-Za-z0-9._:@+=-]",
                             id, i + 1, (unsigned char)id[i]);
    return 0;
}

static const char *get(mp_env_lookup env, void *data, const char *name)
{
    const char *v = env(name, data);
    return v && *v ? v : NULL;
}

typedef struct ci_source {
    const char *var;
    const char *source;
} ci_source;

static const ci_source ci_sources[] = {
    {"CI_PIPELINE_ID", "GitLab CI (CI_PIPELINE_ID)"},
    {"BUILD_BUILDID", "Azure Pipelines (BUILD_BUILDID)"},
    {"BUILDKITE_BUILD_ID", "Buildkite (BUILDKITE_BUILD_ID)"},
    {"CIRCLE_WORKFLOW_ID", "CircleCI (CIRCLE_WORKFLOW_ID)"},
    {"BUILD_TAG", "Jenkins (BUILD_TAG)"},
};

/* A CI-derived id: other bytes become '_'; too long is an error. */
static int from_ci(const char *value, const char *source, char out[MP_RUN_ID_MAX + 1],
                   mp_error *err)
{
    size_t n = strlen(value);
    if (n > MP_RUN_ID_MAX)
        return mp__error(err, MP_EUSAGE, source,
                         "run id from %s is longer than %d bytes: pass --run-id", source,
                         MP_RUN_ID_MAX);
    for (size_t i = 0; i < n; i++)
        out[i] = id_char(value[i]) ? value[i] : '_';
    out[n] = '\0';
    return 0;
}

int mp__runid_resolve(const char *flag, mp_env_lookup env, void *env_data,
                      char out[MP_RUN_ID_MAX + 1], const char **source, mp_error *err)
{
    const char *src = NULL, *explicit_id = NULL;
    if (flag) {
        explicit_id = flag;
        src = "--run-id";
    } else if ((explicit_id = get(env, env_data, "MODPIPE_RUN_ID")) != NULL) {
        src = "MODPIPE_RUN_ID";
    }
    if (explicit_id) {
        if (mp__runid_check(explicit_id, NULL) < 0)
            return mp__error(err, MP_EUSAGE, src,
                             "invalid %s \"%.*s\" (use 1 to %d characters of letters, digits "
                             "and ._:+=@-)",
                             src, MP_RUN_ID_MAX + 8, explicit_id, MP_RUN_ID_MAX);
        snprintf(out, MP_RUN_ID_MAX + 1, "%s", explicit_id);
        if (source) *source = src;
        return 0;
    }
    const char *gh = get(env, env_data, "GITHUB_RUN_ID");
    if (gh) {
        const char *attempt = get(env, env_data, "GITHUB_RUN_ATTEMPT");
        char buf[2 * MP_RUN_ID_MAX + 4];
        snprintf(buf, sizeof buf, "%.*s-%.*s", MP_RUN_ID_MAX, gh, MP_RUN_ID_MAX,
                 attempt ? attempt : "1");
        src = "GitHub Actions (GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT)";
        if (source) *source = src;
        return from_ci(buf, src, out, err);
    }
    for (size_t i = 0; i < sizeof ci_sources / sizeof ci_sources[0]; i++) {
        const char *v = get(env, env_data, ci_sources[i].var);
        if (v) {
            if (source) *source = ci_sources[i].source;
            return from_ci(v, ci_sources[i].source, out, err);
        }
    }
    return mp__error(err, MP_EUSAGE, "",
                     "no run id: pass --run-id or set MODPIPE_RUN_ID (the same value on "
                     "every instance of the run)");
}
