/*
 * ctx.h -- the context a C module body runs with (mp_ctx of modpipe.h).
 *
 * The executor creates one per attempt with mp__ctx_new(), hands it to the
 * module's function on the function's own thread, may cancel it from any
 * thread, and after the function returned reads the outputs it set and
 * frees it. The module name is copied. Outputs are kept in the order they
 * were first set; setting a key again replaces its value (like a later
 * line in $MODPIPE_OUTPUT). All functions are thread-safe.
 */
#ifndef MP_CORE_CTX_H
#define MP_CORE_CTX_H

#include "modpipe.h"

#include <stddef.h>

/* Upper bound of the bytes of all output keys and values of one context;
 * mp_ctx_set_output() past it fails with MP_ETOOBIG. */
#define MP_CTX_OUTPUT_LIMIT (1024 * 1024)

mp_ctx *mp__ctx_new(const char *module, int attempt);
void mp__ctx_free(mp_ctx *ctx); /* NULL-safe */

/* Ask the module to stop: mp_ctx_cancelled() turns non-zero. */
void mp__ctx_cancel(mp_ctx *ctx);

/* Is key a valid output key ([A-Za-z0-9_-]+)? */
int mp__output_key_valid(const char *key);

/* Call fn for every output (in order of first setting) under the
 * context's lock; fn must not call back into ctx. Returns the count. */
typedef void (*mp_ctx_output_fn)(const char *key, const char *value, void *data);
size_t mp__ctx_outputs(mp_ctx *ctx, mp_ctx_output_fn fn, void *data);

#endif
