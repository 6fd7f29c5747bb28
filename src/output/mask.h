/*
 * mask.h -- replace secret values by "***" in everything modpipe prints.
 *
 * Contract. Every secret added to a masker is replaced by the three bytes
 * "***" wherever it appears in text passed through mp__mask_string() or an
 * mp_mask_stream, and so are the forms a secret commonly takes in logs:
 *   - the value itself;
 *   - its standard base64 encoding (with padding), and the part of the
 *     encoding fully determined by the secret when it sits at byte offset
 *     0, 1 or 2 (mod 3) inside a longer base64-encoded text -- with and
 *     without the text ending right after the secret (padding);
 *   - its URL encoding (every byte but A-Z a-z 0-9 - . _ ~ as %XX), with
 *     upper-case and with lower-case hex digits, and the form-encoding
 *     variant where a space is "+" instead of "%20".
 * A form shorter than 4 bytes is not added. A secret shorter than 4 bytes is
 * refused (MP_EINVAL): it would match ordinary text everywhere, and its
 * short encodings could not be masked safely.
 *
 * What is replaced: the union of all occurrences of all forms. Every maximal
 * run of bytes covered by at least one occurrence -- overlapping or touching
 * occurrences included -- becomes one "***". This is a superset of "the
 * longest match at the earliest position": a secret that is a prefix of
 * another, or two secrets overlapping, never leave a tail of either in the
 * output. Bytes outside every occurrence pass through unchanged; input is
 * binary-safe (NUL bytes are ordinary bytes).
 *
 * A stream gives the same result as masking the whole input at once, however
 * the input is cut into feed() calls. To do that it holds back the bytes that
 * could still be the start of a secret: never more than
 * mp__masker_longest() - 1 of them. mp__mask_stream_flush() at end of input
 * writes them out. Memory per stream is O(longest form), whatever the input.
 *
 * How: all forms go into one Aho-Corasick automaton. The states nearest
 * the root get a dense transition table over byte classes (the bytes that
 * occur in some form, plus one class for all others; at most 2 MB), deeper
 * states keep their own edges and failure link (about 25 bytes per form
 * byte). Scanning is linear in the input whatever the number of secrets --
 * one table load per byte while in the dense part -- and a filter on the
 * first 4 bytes of every form skips the automaton over text that starts no
 * secret. The automaton is rebuilt by every mp__masker_add(), so adding k
 * secrets costs O(k * total form bytes).
 *
 * Ownership and threads: a masker is built on one thread (new, add); after
 * that it is read-only, and any number of threads may call
 * mp__mask_string() and run their own streams on it at the same time. Add
 * every secret before the first use: mp__masker_add() must not run while a
 * stream on the masker exists or another thread masks with it. The masker
 * must outlive its streams. A stream is caller-owned
 * (mp__mask_stream_init/release) and used by one thread at a time.
 */
#ifndef MP_OUTPUT_MASK_H
#define MP_OUTPUT_MASK_H

#include "modpipe.h"

#include <stddef.h>
#include <stdint.h>

/* Secrets shorter than this are refused by mp__masker_add(). */
#define MP_MASK_MIN_SECRET 4
/* What a secret is replaced by. */
#define MP_MASK_REPLACEMENT "***"

typedef struct mp_masker mp_masker;

/* An empty masker (masks nothing until secrets are added). */
mp_masker *mp__masker_new(void);
/* NULL-safe. No stream may use m any more. */
void mp__masker_free(mp_masker *m);

/* Add the secret `value` (NUL-terminated) and its encoded forms. `name`
 * (e.g. the environment variable it came from) is only used in the error
 * message, which never contains the value. Returns 0, or MP_EINVAL if value
 * is NULL or shorter than MP_MASK_MIN_SECRET bytes, or MP_ETOOBIG if it is
 * over 64 KiB or all forms of all secrets together exceed 4 MiB (some
 * 300 KB of secrets). On error the masker is unchanged. Adding a value
 * twice is harmless. */
int mp__masker_add(mp_masker *m, const char *name, const char *value, mp_error *err);

/* Number of secrets added, and the length of the longest form (0 when
 * empty): a stream holds back at most mp__masker_longest(m) - 1 bytes. */
size_t mp__masker_count(const mp_masker *m);
size_t mp__masker_longest(const mp_masker *m);

/* `s` with every secret replaced; a new heap string the caller frees.
 * m may be NULL (nothing to mask: a copy of s). Thread-safe. */
char *mp__mask_string(const mp_masker *m, const char *s);

/* Where a stream's output goes. Called with n > 0; returns 0, or a negative
 * code (e.g. MP_EIO) that stops the stream and is returned by the feed() or
 * flush() that triggered it and by every later call. */
typedef int (*mp_mask_write_fn)(void *data, const void *buf, size_t n);

/* A masked run of input offsets [start, end) (private to mask.c). */
struct mp_mask_span {
    uint64_t start, end;
};

/* A streaming masker, e.g. between a module's pipe and its log. Fields are
 * private; the struct is public so it can live on the stack. */
typedef struct mp_mask_stream {
    const mp_masker *m;
    mp_mask_write_fn write;
    void *data;
    int err;             /* sticky write error */
    uint32_t cur;        /* automaton state code (see mask.c) */
    uint64_t pos;        /* bytes fed so far */
    uint64_t done;       /* input before this offset has been written out */
    int last_masked;     /* the last thing written was "***" ending at done */
    unsigned char *hold; /* input [done, pos) carried over between feeds */
    size_t hold_len, hold_cap;
    struct mp_mask_span *spans; /* masked runs not yet written, in [done, pos) */
    size_t span_head, span_len, span_cap;
    const unsigned char *chunk; /* during feed(): the bytes being fed */
    uint64_t chunk_base;        /* offset of chunk[0] */
    unsigned char *out;         /* small writes coalesced here */
    size_t out_len;
} mp_mask_stream;

/* Initialise a stream that masks with m (may be NULL: pass through) and
 * writes to write(data, ...). Does not fail (out of memory aborts). */
void mp__mask_stream_init(mp_mask_stream *ms, const mp_masker *m, mp_mask_write_fn write,
                          void *data);
/* Mask n bytes. Everything that can no longer be part of a secret is
 * written before this returns; at most mp__masker_longest() - 1 bytes are
 * held back. Returns 0 or the write callback's error. */
int mp__mask_stream_feed(mp_mask_stream *ms, const void *buf, size_t n);
/* End of input: write what was held back. A secret is not matched across a
 * flush; the stream may be fed again afterwards. Returns 0 or the error. */
int mp__mask_stream_flush(mp_mask_stream *ms);
/* Free the stream's memory. Does not flush: held-back bytes are dropped. */
void mp__mask_stream_release(mp_mask_stream *ms);

#endif
