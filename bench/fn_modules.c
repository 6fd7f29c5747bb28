/*
 * fn_modules.c -- how fast the engine runs C-function modules: N no-op
 * modules (default 100,000) in a random DAG, built through the public API
 * (include/modpipe.h) and run with mp_main(p, "run", ...), the way a
 * program embedding modpipe runs its pipeline.
 *
 * usage: fn_modules [N] [EDGES] [-- run options]
 *        (defaults: 100000, 3; run options default to "-j 8 --progress never")
 *
 * Module i depends on up to EDGES modules chosen among 0..i-1 (fixed
 * seed, so every run builds the same graph). The run happens in a fresh
 * temporary directory (its state dir .modpipe, logs and history go there;
 * removed at the end), twice:
 *   cold  no state dir yet (a module that prints nothing gets no log
 *         file);
 *   warm  the state dir of the first run is there (history.json is read
 *         and written again).
 * stdout of mp_main (module lines and the summary) goes to /dev/null.
 * Prints the time to build and validate the pipeline and, for each run,
 * its wall time and the CPU time (user + system, all threads) the process
 * spent in it: on a shared machine the wall time depends on the load, the
 * CPU time much less. The goal is under 2 s of wall time for a run of
 * 100,000 modules.
 */
#define _GNU_SOURCE
#include "modpipe.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int noop(mp_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64: a fixed sequence, so the graph is the same every time. */
static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static mp_pipeline *build(long n, int edges)
{
    mp_pipeline *p = mp_pipeline_new("fn-bench");
    char name[32], dep[32];
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "m%ld", i);
        mp_error err;
        mp_module *m = mp_pipeline_add_module(p, name, NULL, &err);
        if (!m) {
            fprintf(stderr, "fn_modules: %s\n", err.message);
            exit(1);
        }
        mp_module_set_function(m, noop, NULL);
        for (int k = 0; k < edges && i > 0; k++) {
            snprintf(dep, sizeof(dep), "m%ld", (long)(next_rand() % (uint64_t)i));
            mp_module_depends_on(m, dep);
        }
    }
    return p;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* mp_main(p, "run", opts...) with stdout to /dev/null; returns seconds of
 * wall time, and the CPU seconds in *cpu. */
static double run_once(mp_pipeline *p, int nopts, char **opts, int *rc, double *cpu)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "fn_modules";
    argv[argc++] = "run";
    for (int i = 0; i < nopts && argc < 63; i++)
        argv[argc++] = opts[i];
    argv[argc] = NULL;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    double c0 = cpu_s(), t0 = now_s();
    *rc = mp_main(p, argc, argv);
    double t = now_s() - t0;
    *cpu = cpu_s() - c0;
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(devnull);
    return t;
}

int main(int argc, char **argv)
{
    long n = 100000;
    int edges = 3;
    int nopts = 0;
    char **opts = NULL;
    char *defaults[] = {"-j", "8", "--progress", "never"};
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            opts = argv + i + 1;
            nopts = argc - i - 1;
            break;
        }
        if (pos == 0)
            n = strtol(argv[i], NULL, 10);
        else if (pos == 1)
            edges = (int)strtol(argv[i], NULL, 10);
        pos++;
    }
    if (n < 1 || edges < 0) {
        fprintf(stderr, "usage: fn_modules [N] [EDGES] [-- run options]\n");
        return 2;
    }
    if (!opts) {
        opts = defaults;
        nopts = 4;
    }

    char dir[] = "/tmp/mp_fn_bench.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) < 0) {
        perror("fn_modules: temporary directory");
        return 1;
    }

    double t0 = now_s();
    mp_pipeline *p = build(n, edges);
    double t_build = now_s() - t0;
    t0 = now_s();
    mp_error err;
    if (mp_pipeline_validate(p, &err) < 0) {
        fprintf(stderr, "fn_modules: invalid pipeline: %s\n", err.message);
        return 1;
    }
    double t_validate = now_s() - t0;

    int rc_cold, rc_warm;
    double c_cold, c_warm;
    double t_cold = run_once(p, nopts, opts, &rc_cold, &c_cold);
    double t_warm = run_once(p, nopts, opts, &rc_warm, &c_warm);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("modules %ld, edges up to %d each, run options:", n, edges);
    for (int i = 0; i < nopts; i++)
        printf(" %s", opts[i]);
    printf("\nbuild %.3f s, validate %.3f s\n", t_build, t_validate);
    printf("run cold %.3f s (cpu %.3f s, exit %d), warm %.3f s (cpu %.3f s, exit %d), "
           "%.1f us/module warm\n",
           t_cold, c_cold, rc_cold, t_warm, c_warm, rc_warm, t_warm * 1e6 / (double)n);
    printf("peak RSS %.1f MB\n", (double)ru.ru_maxrss / 1024.0);

    mp_pipeline_free(p);
    if (chdir("/") == 0) nftw(dir, rm_entry, 64, FTW_DEPTH | FTW_PHYS);
    return rc_cold || rc_warm;
}
