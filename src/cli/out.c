/*
 * out.c -- how the command line writes (see cli.h).
 *
 * Everything is formatted into a buffer first and written with one
 * write(2); a short write (a full pipe) continues where it stopped, EINTR
 * retries. Errors writing to stdout are remembered so mp_main can report
 * them once and exit non-zero; errors writing to stderr have nowhere to go.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

void mp__cli_out(mp_cli *cli, const char *buf, size_t len)
{
    if (cli->write_errno) return;
    cli->write_errno = write_all(STDOUT_FILENO, buf, len);
}

void mp__cli_outf(mp_cli *cli, const char *fmt, ...)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    mp__strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    mp__strbuf_addch(&sb, '\n');
    mp__cli_out(cli, sb.buf, sb.len);
    mp__strbuf_release(&sb);
}

void mp__cli_errorf(const mp_cli *cli, const char *cmd, const char *fmt, ...)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__strbuf_adds(&sb, cli->prog);
    if (cmd) {
        mp__strbuf_addch(&sb, ' ');
        mp__strbuf_adds(&sb, cmd);
    }
    mp__strbuf_adds(&sb, ": ");
    va_list ap;
    va_start(ap, fmt);
    mp__strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    mp__strbuf_addch(&sb, '\n');
    (void)write_all(STDERR_FILENO, sb.buf, sb.len);
    mp__strbuf_release(&sb);
}

void mp__cli_errlinef(const char *fmt, ...)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    mp__strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    mp__strbuf_addch(&sb, '\n');
    (void)write_all(STDERR_FILENO, sb.buf, sb.len);
    mp__strbuf_release(&sb);
}
