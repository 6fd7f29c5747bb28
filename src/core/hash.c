/*
 * hash.c -- the canonical pipeline hash (validate.h step 4).
 *
 * sha256 of the compact, key-sorted JSON form without positions
 * (json_dumps(JSON_COMPACT | JSON_SORT_KEYS) of pipeline_json.h, streamed
 * by mp__pipeline_canonical), so it ignores key order, whitespace,
 * comments and the order modules were declared in, and changes with
 * anything that changes what would run. Workers compare it with the
 * master's.
 */
#include "core/pipeline_json.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <openssl/evp.h>

static void feed(const char *s, size_t n, void *data)
{
    if (!EVP_DigestUpdate((EVP_MD_CTX *)data, s, n)) mp__die("hash: sha256 failed");
}

void mp__pipeline_hash(mp_pipeline *p)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) mp__die("hash: cannot start sha256");
    mp__pipeline_canonical(p, feed, ctx);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_DigestFinal_ex(ctx, md, &mdlen)) mp__die("hash: sha256 failed");
    EVP_MD_CTX_free(ctx);
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * mdlen] = '\0';
    p->hash = mp__arena_strdup(p->arena, hex);
}
