#!/usr/bin/env bash
# install -- `cmake --install` of the build under test into a scratch
# prefix, then a C program written against the installed modpipe.h, built
# with `pkg-config --cflags --libs modpipe` (the static library, with the shared libraries it needs), adds a C-function
# module and gets the whole command line from mp_main(): list, validate and
# run, with the function's output reaching a dependent shell module.
. "$(dirname "$0")/lib/common.bash"

build_dir=$(dirname "$MODPIPE")
command -v pkg-config >/dev/null || fail "pkg-config is not installed"
cmake --install "$build_dir" --prefix "$WORK/prefix" >/dev/null ||
    fail "cmake --install failed"
pc=$(find "$WORK/prefix" -name modpipe.pc | head -n 1)
[ -n "$pc" ] || fail "no modpipe.pc installed"
[ -f "$WORK/prefix/include/modpipe.h" ] || fail "modpipe.h not installed"
export PKG_CONFIG_PATH=$(dirname "$pc")

cat >prog.c <<'C'
#include <modpipe.h>
#include <stdio.h>

static int stamp(mp_ctx *ctx, void *data)
{
    (void)data;
    return mp_ctx_set_output(ctx, "stamp", "from-c") == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    mp_pipeline *p = mp_pipeline_new("installed");
    mp_error err;
    mp_module *m = mp_pipeline_add_module(p, "stamp", NULL, &err);
    if (!m) {
        fprintf(stderr, "add: %s\n", err.message);
        return 9;
    }
    mp_module_set_function(m, stamp, NULL);
    mp_module *use = mp_pipeline_add_module(p, "use",
        "test \"${{ modules.stamp.outputs.stamp }}\" = from-c && echo got-it", &err);
    mp_module_depends_on(use, "stamp");
    int rc = mp_main(p, argc, argv);
    mp_pipeline_free(p);
    return rc;
}
C
libs=$(pkg-config --libs modpipe) || fail "pkg-config --libs failed"
cflags=$(pkg-config --cflags modpipe)
# Link the static library explicitly (the shared one sits beside it), and
# the libraries it needs (its Requires.private) as the shared ones the
# distribution ships: `pkg-config --static` would also ask for the static
# archives of libcurl's own dependencies (kerberos, ldap), which Debian's
# -dev packages do not install.
libs=${libs/-lmodpipe/-l:libmodpipe.a}
requires=$(sed -n 's/^Requires.private: *//p' "$pc")
[ -n "$requires" ] || fail "modpipe.pc lists no Requires.private"
# shellcheck disable=SC2086 # a word list
libs="$libs $(pkg-config --libs $requires) -lpthread" || fail "pkg-config --libs $requires failed"
# A sanitized build's library needs the sanitizer runtimes at link time.
san=""
if grep -q '^MODPIPE_SANITIZE:BOOL=ON' "$build_dir/CMakeCache.txt" 2>/dev/null; then
    san="-fsanitize=address,undefined"
fi
# shellcheck disable=SC2086 # word lists from pkg-config
cc $san -std=c11 -Wall -Werror $cflags prog.c -o prog $libs 2>"$ERR" || { cat "$ERR" >&2; fail "compile failed"; }

expect_exit 0 ./prog list
expect_stdout_matches '^stamp +- +- +-$'
expect_exit 0 ./prog run --progress never
expect_stdout_matches '^got-it$'
expect_stdout_matches '^pipeline succeeded: 2 succeeded$'
pass
