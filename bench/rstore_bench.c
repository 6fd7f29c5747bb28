/*
 * rstore_bench.c -- put and get of one large object through the redis://
 * artifact store, with the process's peak RSS after each (DESIGN §6;
 * driven by bench/rstore_bench.sh, which also runs redis-benchmark on the
 * same server for the floor).
 *
 * usage: rstore_bench URL SIZE_MIB DIR
 * Writes a SIZE_MIB MiB file of pseudo-random bytes in DIR (1 MiB buffer),
 * puts it under blobs/sha256/<its digest>, gets it back into DIR (the
 * store verifies size, chunk count and sha256), deletes it, and prints
 * one line per step: "put <MiB> MiB <s> s <MiB/s> MiB/s rss <MiB> MiB".
 */
#include "artifacts/store.h"
#include "os/clock.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static void make_file(const char *path, long mib, char *hex)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        perror(path);
        exit(1);
    }
    size_t n = 1 << 20;
    uint64_t *buf = malloc(n);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (long m = 0; m < mib; m++) {
        for (size_t i = 0; i < n / 8; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = x;
        }
        EVP_DigestUpdate(md, buf, n);
        if (fwrite(buf, 1, n, fp) != n) {
            perror(path);
            exit(1);
        }
    }
    unsigned char d[32];
    unsigned int dn = 0;
    EVP_DigestFinal_ex(md, d, &dn);
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    free(buf);
    fclose(fp);
}

static void step(const char *what, int rc, const mp_error *err, long mib, int64_t t0)
{
    double s = (double)(mp__clock_now_ms() - t0) / 1000.0;
    if (rc) {
        fprintf(stderr, "%s failed: %s\n", what, err->message);
        exit(1);
    }
    printf("%s %ld MiB %.2f s %.1f MiB/s rss %.1f MiB\n", what, mib, s, (double)mib / s,
           rss_mib());
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rstore_bench URL SIZE_MIB DIR\n");
        return 2;
    }
    long mib = strtol(argv[2], NULL, 10);
    char src[4096], dst[4096], hex[65], key[MP_STORE_BLOB_KEY_SIZE];
    snprintf(src, sizeof src, "%s/src.bin", argv[3]);
    snprintf(dst, sizeof dst, "%s/dst.bin", argv[3]);
    make_file(src, mib, hex);
    mp__store_blob_key(hex, key, sizeof key);
    printf("file %ld MiB rss %.1f MiB\n", mib, rss_mib());

    mp_store *s = NULL;
    mp_error err = {0};
    mp_store_open_opts o = {.url = argv[1], .deadline = mp__deadline_in(10000)};
    if (mp__store_open(&o, &s, &err)) {
        fprintf(stderr, "open: %s\n", err.message);
        return 1;
    }
    int64_t t0 = mp__clock_now_ms();
    step("put", mp__store_put(s, key, src, mp__deadline_in(600000), &err), &err, mib, t0);
    t0 = mp__clock_now_ms();
    step("get", mp__store_get(s, key, dst, mp__deadline_in(600000), &err), &err, mib, t0);
    t0 = mp__clock_now_ms();
    step("put-again", mp__store_put(s, key, src, mp__deadline_in(600000), &err), &err, mib, t0);
    mp__store_delete(s, key, mp__deadline_in(60000), NULL);
    mp__store_close(s);
    unlink(src);
    unlink(dst);
    return 0;
}
