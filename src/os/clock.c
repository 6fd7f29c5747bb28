/* clock.c -- see clock.h. */
#include "os/clock.h"
#include "core/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

static int64_t clock_ms(clockid_t id, const char *name)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) < 0)
        mp__die("clock_gettime(%s): %s", name, strerror(errno));
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mp__clock_now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
}

int64_t mp__clock_wall_ms(void)
{
    return clock_ms(CLOCK_REALTIME, "CLOCK_REALTIME");
}

int64_t mp__deadline_in(int64_t ms)
{
    int64_t now = mp__clock_now_ms();
    if (ms < 0)
        ms = 0;
    if (ms >= MP_DEADLINE_NONE - now)
        return MP_DEADLINE_NONE;
    return now + ms;
}

int64_t mp__deadline_remaining_ms(int64_t deadline)
{
    if (deadline == MP_DEADLINE_NONE)
        return INT64_MAX;
    int64_t now = mp__clock_now_ms();
    return deadline > now ? deadline - now : 0;
}

int mp__deadline_passed(int64_t deadline)
{
    return mp__deadline_remaining_ms(deadline) == 0;
}

int mp__deadline_poll_ms(int64_t deadline)
{
    if (deadline == MP_DEADLINE_NONE)
        return -1;
    int64_t left = mp__deadline_remaining_ms(deadline);
    return left > INT_MAX ? INT_MAX : (int)left;
}

int64_t mp__deadline_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}
