/*
 * artifacts_pack.c -- pack and unpack throughput of the artifact code
 * (artifacts/pack.h), for bench/artifacts_bench.sh.
 *
 *   artifacts_pack ROOT PATTERN BLOB TARGET
 *
 * Matches PATTERN under ROOT, packs into BLOB (must not exist), unpacks
 * BLOB into TARGET, and prints one line:
 *   pack_s=<s> unpack_s=<s> files=<n> in_bytes=<n> blob_bytes=<n> peak_rss_kb=<n>
 */
#include "artifacts/glob.h"
#include "artifacts/pack.h"
#include "os/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: artifacts_pack ROOT PATTERN BLOB TARGET\n");
        return 2;
    }
    const char *pattern = argv[2];
    mp_glob_result g;
    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    if (mp__glob_run(argv[1], &pattern, 1, &g, &err) < 0) {
        fprintf(stderr, "glob: %s\n", err.message);
        return 1;
    }
    mp_pack_result r;
    if (mp__pack(argv[1], &g, argv[3], NULL, mp__deadline_in(3600 * 1000), &r, &err) < 0) {
        fprintf(stderr, "pack: %s\n", err.message);
        return 1;
    }
    int64_t t1 = mp__clock_now_ms();
    mp_unpack_stats st;
    if (mp__unpack(argv[3], argv[4], NULL, mp__deadline_in(3600 * 1000), &st, &err) < 0) {
        fprintf(stderr, "unpack: %s\n", err.message);
        return 1;
    }
    int64_t t2 = mp__clock_now_ms();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("pack_s=%.2f unpack_s=%.2f files=%zu in_bytes=%llu blob_bytes=%llu peak_rss_kb=%ld\n",
           (double)(t1 - t0) / 1000, (double)(t2 - t1) / 1000, r.nfiles,
           (unsigned long long)st.bytes, (unsigned long long)r.size, ru.ru_maxrss);
    mp__pack_result_release(&r);
    mp__glob_release(&g);
    return 0;
}
