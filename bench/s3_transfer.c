/*
 * s3_transfer.c -- one artifact store transfer, for bench/s3_transfer.sh:
 *
 *   s3_transfer put URL KEY FILE    upload FILE as KEY
 *   s3_transfer get URL KEY FILE    download KEY into FILE
 *
 * Opens the store of URL (any scheme of store.h; the benchmark uses s3://)
 * with a 60 s open deadline and gives the transfer 30 minutes. Prints the
 * transfer's wall time in milliseconds on stdout; errors on stderr, exit 1.
 */
#include "artifacts/store.h"
#include "os/clock.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "put") != 0 && strcmp(argv[1], "get") != 0)) {
        fprintf(stderr, "usage: s3_transfer put|get URL KEY FILE\n");
        return 2;
    }
    mp_store *s = NULL;
    mp_error err = {0};
    mp_store_open_opts o = {.url = argv[2], .deadline = mp__deadline_in(60000)};
    if (mp__store_open(&o, &s, &err)) {
        fprintf(stderr, "s3_transfer: %s\n", err.message);
        return 1;
    }
    int64_t t0 = mp__clock_now_ms(), dl = mp__deadline_in(30 * 60 * 1000);
    int rc = argv[1][0] == 'p' ? mp__store_put(s, argv[3], argv[4], dl, &err)
                               : mp__store_get(s, argv[3], argv[4], dl, &err);
    int64_t took = mp__clock_now_ms() - t0;
    mp__store_close(s);
    if (rc) {
        fprintf(stderr, "s3_transfer: %s\n", err.message);
        return 1;
    }
    printf("%lld\n", (long long)took);
    return 0;
}
