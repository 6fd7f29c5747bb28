/* s3_url.c -- canonical request URLs; see s3_url.h. */
#include "artifacts/s3/s3_url.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

static bool unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

void mp__s3_uri_encode(mp_strbuf *sb, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p) || (keep_slash && *p == '/')) {
            mp__strbuf_addch(sb, (char)*p);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            mp__strbuf_add(sb, esc, 3);
        }
    }
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

char *mp__s3_pct_decode(const char *s, size_t n, bool plus_is_space)
{
    char *out = mp__xmalloc(n + 1), *w = out;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            *w++ = (char)(hi << 4 | lo);
            i += 2;
        } else if (ch == '+' && plus_is_space) {
            *w++ = ' ';
        } else if (ch == '\0') {
            free(out);
            return NULL;
        } else {
            *w++ = ch;
        }
    }
    *w = '\0';
    return out;
}

void mp__s3_query_add(mp_s3_query *q, const char *name, const char *value)
{
    if (q->n >= MP_S3_QUERY_MAX) mp__die("s3: too many query parameters");
    q->name[q->n] = name;
    q->value[q->n] = value ? value : "";
    q->n++;
}

char *mp__s3_request_url(const mp_s3_config *c, const char *object_key, const mp_s3_query *q)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    const char *ep = c->endpoint;
    const char *host = strstr(ep, "://");
    host = host ? host + 3 : ep;
    if (c->path_style) {
        mp__strbuf_adds(&sb, ep);
        mp__strbuf_addch(&sb, '/');
        mp__s3_uri_encode(&sb, c->bucket, false);
    } else {
        /* scheme://bucket.host[:port][/path] */
        mp__strbuf_add(&sb, ep, (size_t)(host - ep));
        mp__strbuf_adds(&sb, c->bucket);
        mp__strbuf_addch(&sb, '.');
        mp__strbuf_adds(&sb, host);
    }
    if (object_key && *object_key) {
        mp__strbuf_addch(&sb, '/');
        mp__s3_uri_encode(&sb, object_key, true);
    } else if (!c->path_style) {
        mp__strbuf_addch(&sb, '/');
    }
    if (q && q->n) {
        int order[MP_S3_QUERY_MAX];
        for (int i = 0; i < q->n; i++) order[i] = i;
        for (int i = 1; i < q->n; i++) /* insertion sort: a handful of names */
            for (int j = i; j > 0 && strcmp(q->name[order[j - 1]], q->name[order[j]]) > 0; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        for (int i = 0; i < q->n; i++) {
            mp__strbuf_addch(&sb, i ? '&' : '?');
            mp__s3_uri_encode(&sb, q->name[order[i]], false);
            mp__strbuf_addch(&sb, '=');
            mp__s3_uri_encode(&sb, q->value[order[i]], false);
        }
    }
    return mp__strbuf_detach(&sb);
}
