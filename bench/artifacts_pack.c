/*
 * artifacts_pack.c -- the artifact code's pack and unpack alone
 * (artifacts/pack.h), for bench/artifacts_bench.sh, which times each
 * invocation (wall and CPU) beside `tar --zstd`.
 *
 *   artifacts_pack pack ROOT PATTERN BLOB     match PATTERN under ROOT, pack into BLOB
 *   artifacts_pack unpack BLOB TARGET         extract BLOB into TARGET
 *
 * Prints one line of shell assignments: files=<n> bytes=<n> (pack: blob
 * bytes; unpack: bytes written) peak_rss_kb=<n>.
 */
#include "artifacts/glob.h"
#include "artifacts/pack.h"
#include "os/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    mp_error err = {0};
    int64_t dl = mp__deadline_in(3600 * 1000);
    if (argc == 5 && strcmp(argv[1], "pack") == 0) {
        const char *pattern = argv[3];
        mp_glob_result g;
        mp_pack_result r;
        if (mp__glob_run(argv[2], &pattern, 1, &g, &err) < 0 ||
            mp__pack(argv[2], &g, argv[4], NULL, dl, &r, &err) < 0) {
            fprintf(stderr, "pack: %s\n", err.message);
            return 1;
        }
        printf("files=%zu bytes=%llu peak_rss_kb=%ld\n", r.nfiles, (unsigned long long)r.size,
               peak_rss_kb());
        mp__pack_result_release(&r);
        mp__glob_release(&g);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "unpack") == 0) {
        mp_unpack_stats st;
        if (mp__unpack(argv[2], argv[3], NULL, dl, &st, &err) < 0) {
            fprintf(stderr, "unpack: %s\n", err.message);
            return 1;
        }
        printf("files=%llu bytes=%llu peak_rss_kb=%ld\n", (unsigned long long)st.files,
               (unsigned long long)st.bytes, peak_rss_kb());
        return 0;
    }
    fprintf(stderr, "usage: artifacts_pack pack ROOT PATTERN BLOB | unpack BLOB TARGET\n");
    return 2;
}
