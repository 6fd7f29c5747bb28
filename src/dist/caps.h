/*
 * caps.h -- what an instance offers and what a module requires
 * (DESIGN §3.3), as capability classes (coord/class.h).
 *
 * An instance offers os=<linux|macos|windows|...> and
 * arch=<x86_64|arm64|x86|arm|...> from uname(2), plus the pairs of
 * MODPIPE_CAPABILITIES ("K=V,K=V") and of each --capability K=V. A pair
 * given explicitly replaces the automatic pair of the same key (an
 * instance may say os=linux-musl); explicit pairs of one key add up.
 * A module's class is its `requires` (after matrix expansion) plus
 * `instance=0` when pin_to_master; it may run where every pair of its
 * class is offered, compared case-insensitively.
 *
 * Strings returned through `char **out` are the caller's (free).
 * Thread-safe.
 */
#ifndef MP_DIST_CAPS_H
#define MP_DIST_CAPS_H

#include "core/model.h"
#include "modpipe.h"

#include <stdbool.h>
#include <stddef.h>

/* uname's sysname / machine to our names: Linux -> linux, Darwin ->
 * macos, Windows_NT, MINGW.., CYGWIN.., MSYS.. -> windows, else lower-cased;
 * x86_64/amd64 -> x86_64, aarch64/arm64 -> arm64, i[3-6]86 -> x86,
 * armv.. -> arm, else lower-cased. `out` gets at most n-1 bytes. */
void mp__caps_os_name(const char *sysname, char *out, size_t n);
void mp__caps_arch_name(const char *machine, char *out, size_t n);

/* This machine's automatic capabilities, "arch=...,os=..." canonical. */
int mp__caps_auto(char **out, mp_error *err);

/* The instance's capabilities: `automatic` (canonical, may be NULL) with
 * the pairs of env_value (MODPIPE_CAPABILITIES, may be NULL) and of every
 * flag (--capability, each "K=V" or "K=V,K=V") over it. MP_EUSAGE naming
 * the bad pair. */
int mp__caps_build(const char *automatic, const char *env_value, const char *const *flags,
                   size_t nflags, char **out, mp_error *err);

/* The capability class of a validated module. MP_EINVAL for a requires
 * pair that cannot be a capability (e.g. a value with ',' or spaces). */
int mp__caps_module_class(const mp_module *m, char **out, mp_error *err);

/* Do `caps` (canonical) satisfy `cls` (canonical)? When not and `missing`
 * is given, the first pair missing is written there ("os=macos"). */
bool mp__caps_match(const char *cls, const char *caps, char *missing, size_t n);

#endif
