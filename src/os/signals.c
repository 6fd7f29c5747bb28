/*
 * signals.c -- SIGINT/SIGTERM/SIGHUP as a signalfd for one run (signals.h).
 */
#include "os/signals.h"

#include "core/error.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void watched(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

int mp__sigwatch_start(mp_sigwatch *w, mp_error *err)
{
    memset(w, 0, sizeof(*w));
    w->fd = -1;
    sigset_t set;
    watched(&set);
    int rc = pthread_sigmask(SIG_BLOCK, &set, &w->old_mask);
    if (rc != 0) return mp__error(err, MP_EIO, "", "cannot block signals: %s", strerror(rc));
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        pthread_sigmask(SIG_SETMASK, &w->old_mask, NULL);
        return mp__error(err, MP_EIO, "", "signalfd: %s", strerror(e));
    }
    struct sigaction ign;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    if (sigaction(SIGPIPE, &ign, &w->old_pipe) < 0) {
        int e = errno;
        close(fd);
        pthread_sigmask(SIG_SETMASK, &w->old_mask, NULL);
        return mp__error(err, MP_EIO, "", "cannot ignore SIGPIPE: %s", strerror(e));
    }
    w->fd = fd;
    return 0;
}

int mp__sigwatch_read(void *data, int *signo)
{
    mp_sigwatch *w = data;
    struct signalfd_siginfo si;
    *signo = 0;
    if (w->fd < 0) return -1;
    for (;;) {
        ssize_t n = read(w->fd, &si, sizeof(si));
        if (n == (ssize_t)sizeof(si)) {
            *signo = (int)si.ssi_signo;
            return 0;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return -1;
    }
}

void mp__sigwatch_stop(mp_sigwatch *w)
{
    if (!w || w->fd < 0) return;
    int signo;
    while (mp__sigwatch_read(w, &signo) == 0 && signo > 0)
        w->pending++;
    close(w->fd);
    w->fd = -1;
    sigaction(SIGPIPE, &w->old_pipe, NULL);
    pthread_sigmask(SIG_SETMASK, &w->old_mask, NULL);
}

int mp__signal_exit_code(int signo)
{
    return 128 + signo;
}
