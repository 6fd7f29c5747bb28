/*
 * url.c -- URLs shown without their password (url.h).
 */
#include "dist/url.h"

#include "core/strbuf.h"

#include <string.h>

char *mp__url_redact(const char *url)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    if (!url) url = "";
    const char *auth = strstr(url, "//");
    if (!auth) {
        mp__strbuf_adds(&sb, url);
        return mp__strbuf_detach(&sb);
    }
    auth += 2;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@') at = auth + i; /* the last '@': a password may hold one */
    if (!at) {
        mp__strbuf_adds(&sb, url);
        return mp__strbuf_detach(&sb);
    }
    mp__strbuf_add(&sb, url, (size_t)(auth - url));
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (colon) {
        mp__strbuf_add(&sb, auth, (size_t)(colon - auth));
        mp__strbuf_adds(&sb, ":***");
    } else {
        mp__strbuf_adds(&sb, "***");
    }
    mp__strbuf_adds(&sb, at);
    return mp__strbuf_detach(&sb);
}
