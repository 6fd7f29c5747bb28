/* outfmt.c -- see outfmt.h. */
#include "output/outfmt.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int mp__write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

char *mp__fmt_duration(char *buf, int64_t ms)
{
    if (ms < 0) {
        snprintf(buf, MP_FMT_BUFSZ, "-");
        return buf;
    }
    int64_t tenths = (ms + 50) / 100;
    if (tenths < 600) { /* "%lld.%llds", without printf: summaries have many */
        char *o = buf;
        if (tenths >= 100) *o++ = (char)('0' + tenths / 100);
        *o++ = (char)('0' + tenths / 10 % 10);
        *o++ = '.';
        *o++ = (char)('0' + tenths % 10);
        *o++ = 's';
        *o = '\0';
        return buf;
    }
    int64_t s = (ms + 500) / 1000;
    if (s < 3600)
        snprintf(buf, MP_FMT_BUFSZ, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else {
        int64_t m = (s + 30) / 60;
        snprintf(buf, MP_FMT_BUFSZ, "%lldh%02lldm", (long long)(m / 60), (long long)(m % 60));
    }
    return buf;
}

char *mp__fmt_iso8601(char *buf, int64_t epoch_ms)
{
    int64_t ms = epoch_ms % 1000;
    time_t secs = (time_t)(epoch_ms / 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, MP_FMT_BUFSZ, "1970-01-01T00:00:00.000Z");
        return buf;
    }
    snprintf(buf, MP_FMT_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
    return buf;
}

size_t mp__utf8_cols(const char *s, size_t n)
{
    size_t cols = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) cols++;
    return cols;
}

size_t mp__utf8_prefix(const char *s, size_t n, size_t cols)
{
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (seen == cols) return i;
            seen++;
        }
    }
    return n;
}

const char *mp__signal_name(char *buf, size_t size, int signo)
{
    switch (signo) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGKILL:
        return "SIGKILL";
    case SIGHUP:
        return "SIGHUP";
    case SIGQUIT:
        return "SIGQUIT";
    case SIGSEGV:
        return "SIGSEGV";
    case SIGABRT:
        return "SIGABRT";
    case SIGPIPE:
        return "SIGPIPE";
    }
    snprintf(buf, size, "signal %d", signo);
    return buf;
}
