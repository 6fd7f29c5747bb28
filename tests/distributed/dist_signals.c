/*
 * dist_signals.c -- interrupts in a distributed run (DESIGN §1, §3.4):
 * the master's first signal is broadcast (workers stop their modules,
 * which end cancelled, always_run modules still run), its second stops
 * the always_run modules too; a worker's signal stops the modules it runs
 * and reports them cancelled, and the run goes on without it.
 *
 * Signals are bytes written into a pipe that stands for the signalfd of
 * the CLI (mp_dist_*_opts.stop_fd). Registered as "distributed.<case>".
 */
#include "dist_fixture.h"

#include <signal.h>

static bool exists(fx *f, const char *name)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    return access(path, F_OK) == 0;
}

static void wait_files(fx *f, const char *const *names, int64_t ms)
{
    int64_t until = mp__deadline_in(ms);
    for (;;) {
        bool all = true;
        for (size_t i = 0; names[i]; i++)
            all = all && exists(f, names[i]);
        if (all) return;
        if (mp__deadline_passed(until)) fail_msg("modules did not start: %s ...", names[0]);
        usleep(20 * 1000);
    }
}

static void send_signal(int fd, int signo)
{
    unsigned char b = (unsigned char)signo;
    assert_int_equal(write(fd, &b, 1), 1);
}

typedef struct mthread {
    mp_coord_master *m;
    mp_dist_master_opts mo;
    mp_run run;
    int rc;
    mp_error err;
    int64_t ended_at;
    pthread_t t;
} mthread;

static void *mthread_main(void *arg)
{
    mthread *x = arg;
    x->rc = mp__dist_master_run(x->m, &x->mo, &x->run, &x->err);
    x->ended_at = mp__clock_now_ms();
    return NULL;
}

/* Ctrl-C on the master, then again. */
static void test_master_interrupt(void **state)
{
    (void)state;
    fx *f = fx_new("version: 1\n"
                   "options:\n" TIMING "modules:\n"
                   "  long_w: {requires: {role: w}, run: 'touch long_w; exec sleep 30'}\n"
                   "  long_m: {pin_to_master: true, run: 'touch long_m; exec sleep 30'}\n"
                   "  cleanup: {depends_on: [long_w], always_run: true, requires: {role: w}, "
                   "run: 'touch cleaning; exec sleep 30'}\n"
                   "  never: {depends_on: [long_m], run: 'touch never'}\n");
    mp_coord_memory_hub *hub = mp__coord_memory_hub_new();
    mp_coord_open_opts co = {.url = "memory:", .run_id = "sig-master", .memory_hub = hub};
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    mthread mt = {0};
    assert_int_equal(mp__coord_master_open(&co, &mt.m, NULL), 0);
    wthread w = {0};
    mp_coord_worker *h = NULL;
    assert_int_equal(mp__coord_worker_open(&co, &h, NULL), 0);
    wthread_run(f, &w, h, &co, 1, "w1", "role=w");
    mt.mo = master_opts(f, &co, 2);
    mt.mo.on_failure = MP_ON_FAILURE_STOP;
    mt.mo.stop_fd = fds[0];
    mt.mo.stop_read = pipe_stop_read_fd;
    mt.mo.stop_data = &fds[0];
    assert_int_equal(pthread_create(&mt.t, NULL, mthread_main, &mt), 0);

    const char *started[] = {"long_w", "long_m", NULL};
    wait_files(f, started, 10000);
    send_signal(fds[1], SIGINT);
    /* The cancel reaches both instances; the always_run cleanup starts. */
    const char *cleaning[] = {"cleaning", NULL};
    wait_files(f, cleaning, 10000);
    int64_t second = mp__clock_now_ms();
    send_signal(fds[1], SIGINT);
    pthread_join(mt.t, NULL);
    pthread_join(w.t, NULL);
    assert_int_equal(mt.rc, 0);
    assert_int_equal(w.rc, 0);
    assert_int_equal(mt.run.interrupted_by, SIGINT);
    /* After the second signal: the master at once, the worker within its
     * kill grace (300 ms) and a heartbeat, with a wide margin. */
    assert_true(mt.ended_at - second < 3000);
    assert_true(w.ended_at - second < 5000);
    want(f, &mt.run, "long_w", MP_STATUS_CANCELLED);
    want(f, &mt.run, "long_m", MP_STATUS_CANCELLED);
    assert_true(has(R(f, &mt.run, "long_w")->skip_reason, "run interrupted by SIGINT"));
    assert_int_equal(R(f, &mt.run, "long_w")->instance, 1);
    want(f, &mt.run, "cleanup", MP_STATUS_CANCELLED);
    assert_true(has(R(f, &mt.run, "cleanup")->skip_reason, "run interrupted twice"));
    assert_int_not_equal(R(f, &mt.run, "never")->status, MP_STATUS_SUCCEEDED);
    assert_false(exists(f, "never"));
    assert_int_equal(log_count(f, "interrupted by SIGINT: stopping the run on every instance"), 1);
    assert_int_equal(log_count(f, "interrupted again: stopping every module"), 1);
    mp__run_release(&mt.run);
    mp__coord_worker_close(w.w);
    mp__coord_master_close(mt.m);
    mp__coord_memory_hub_free(hub);
    close(fds[0]);
    close(fds[1]);
    fx_free(f);
}

/* SIGTERM to one worker: its modules end cancelled, the rest goes on. */
static void test_worker_interrupt(void **state)
{
    (void)state;
    fx *f = fx_new("version: 1\n"
                   "options:\n" TIMING "modules:\n"
                   "  a: {requires: {role: w}, run: 'touch a; exec sleep 30'}\n"
                   "  b: {requires: {role: w}, run: 'touch b; exec sleep 30'}\n"
                   "  after_a: {depends_on: [a], run: 'touch after_a'}\n"
                   "  other: {pin_to_master: true, run: 'sleep 0.5; touch other'}\n");
    mp_coord_memory_hub *hub = mp__coord_memory_hub_new();
    mp_coord_open_opts co = {.url = "memory:", .run_id = "sig-worker", .memory_hub = hub};
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    mthread mt = {0};
    assert_int_equal(mp__coord_master_open(&co, &mt.m, NULL), 0);
    wthread w = {0};
    mp_coord_worker *h = NULL;
    assert_int_equal(mp__coord_worker_open(&co, &h, NULL), 0);
    wthread_run_stop(f, &w, h, &co, 1, "w1", "role=w", &fds[0]);
    mt.mo = master_opts(f, &co, 2);
    assert_int_equal(pthread_create(&mt.t, NULL, mthread_main, &mt), 0);

    const char *started[] = {"a", "b", NULL};
    wait_files(f, started, 10000);
    int64_t sent = mp__clock_now_ms();
    send_signal(fds[1], SIGTERM);
    pthread_join(w.t, NULL);
    assert_int_equal(w.rc, 0);
    assert_int_equal(w.interrupted_by, SIGTERM);
    assert_true(w.ended_at - sent < 3000); /* kill grace 300 ms + a heartbeat */
    pthread_join(mt.t, NULL);
    assert_int_equal(mt.rc, 0);
    assert_int_equal(mt.run.interrupted_by, 0);
    want(f, &mt.run, "a", MP_STATUS_CANCELLED);
    want(f, &mt.run, "b", MP_STATUS_CANCELLED);
    assert_true(has(R(f, &mt.run, "a")->skip_reason, "the worker was interrupted by SIGTERM"));
    assert_int_equal(R(f, &mt.run, "b")->instance, 1);
    want(f, &mt.run, "after_a", MP_STATUS_DEPENDENCY_FAILED);
    want(f, &mt.run, "other", MP_STATUS_SUCCEEDED);
    assert_int_equal(log_count(f, "interrupted by SIGTERM: stopping the modules running here"), 1);
    mp__run_release(&mt.run);
    mp__coord_worker_close(w.w);
    mp__coord_master_close(mt.m);
    mp__coord_memory_hub_free(hub);
    close(fds[0]);
    close(fds[1]);
    fx_free(f);
}

static const struct CMUnitTest cases[] = {
    DIST_CASE(master_interrupt),
    DIST_CASE(worker_interrupt),
};

int main(int argc, char **argv)
{
    return dist_main("distributed.signals", cases, sizeof cases / sizeof cases[0], argc, argv);
}
