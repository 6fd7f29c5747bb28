/*
 * url.h -- showing a coordinator (or store) URL without its secret
 * (DESIGN §1: credentials given in URLs are never printed).
 *
 * mp__url_redact copies url with the password of its userinfo replaced by
 * "***": "redis://user:pw@h:6379/0" -> "redis://user:***@h:6379/0",
 * "redis://:pw@h" -> "redis://:***@h". A userinfo without ':' is shown as
 * "***" whole (the pw of "redis://pw@h" is hidden), since some clients read
 * it as the password. Only the authority (after the two slashes, up to the next '/',
 * '?' or '#') is looked at; a URL without them is copied as is.
 *
 * The result is the caller's (free). Pure; thread-safe.
 */
#ifndef MP_DIST_URL_H
#define MP_DIST_URL_H

char *mp__url_redact(const char *url);

#endif
