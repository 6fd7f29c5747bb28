#!/usr/bin/env bash
# artifacts_bench.sh -- artifacts with a big payload (DESIGN §3.6, §6).
#
#   bench/artifacts_bench.sh BUILD_DIR [SIZE_MB]     (default 2048)
#
# BUILD_DIR is a -DMODPIPE_BENCH=ON build (modpipe and bench/artifacts_pack).
# Makes SIZE_MB of files (half random bytes, half base64 text, 16 files),
# then:
#   1. pack and unpack with artifacts_pack vs `tar --zstd -cf` / `tar --zstd
#      -xf` on the same files (same zstd level 3): best of 3 of wall and CPU
#      time (user + sys; tar's counts its zstd child), ratios printed;
#   2. a real `modpipe run`: one module produces the files (data/**), one
#      consumes them (publish to a file:// store, fetch into the cache,
#      digest check, extract) -- modpipe's peak RSS from /usr/bin/time.
# Scratch space: about 5 x SIZE_MB under ${TMPDIR:-/tmp}; removed at the end.
set -euo pipefail
build=$(cd "${1:?usage: artifacts_bench.sh BUILD_DIR [SIZE_MB]}" && pwd)
size_mb=${2:-2048}
mp=$build/modpipe
packer=$build/bench/artifacts_pack
[ -x "$mp" ] && [ -x "$packer" ] || { echo "build $build with -DMODPIPE_BENCH=ON" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/mp-art-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

per=$((size_mb / 16))
mkdir -p data/bin data/text
for i in $(seq 1 8); do
    head -c "${per}M" /dev/urandom >"data/bin/blob$i.bin"
    head -c "$((per * 3 / 4))M" /dev/urandom | base64 -w 100 >"data/text/part$i.txt"
done
in_bytes=$(du -sb data | cut -f1)
sync

# timed OUTFILE CMD...: run CMD, write "wall cpu" (seconds; cpu = user +
# sys, children included, so tar's zstd counts) to OUTFILE.
timed() {
    local out=$1
    shift
    /usr/bin/time -f '%e %U %S' -o "$out.t" "$@" >"$out.log"
    awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$out.t" >"$out"
}
best() { sort -n -k"$2" "$1"-[0-9] | head -1 | cut -d' ' -f"$2"; }

# 1. pack/unpack vs tar: 3 rounds, page cache warm for both, best of each.
for round in 1 2 3; do
    rm -rf blob.tar.zst out tar.tar.zst tout
    timed "mp-pack-$round" "$packer" pack "$work" 'data/**' "$work/blob.tar.zst"
    timed "mp-unpack-$round" "$packer" unpack "$work/blob.tar.zst" "$work/out"
    timed "tar-pack-$round" tar --zstd -cf tar.tar.zst data
    mkdir tout
    timed "tar-unpack-$round" tar --zstd -xf tar.tar.zst -C tout
done
eval "$(cat mp-pack-3.log)"
files_packed=$files blob_bytes=$bytes rss_pack=$peak_rss_kb
eval "$(cat mp-unpack-3.log)"
rss_unpack=$peak_rss_kb
cmp -s <(cd out && find . -type f -exec sha256sum {} + | sort) \
       <(cd tout && find . -type f -exec sha256sum {} + | sort) || { echo "unpacked trees differ" >&2; exit 1; }
tar_blob=$(stat -c %s tar.tar.zst)
rm -rf out tout tar.tar.zst blob.tar.zst

# 2. modpipe end to end: producer + consumer, peak RSS of the process.
cat >modpipe.yml <<'YAML'
version: 1
name: art-bench
modules:
  produce:
    run: "true"
    produces: [{name: payload, path: "data/**"}]
  consume:
    depends_on: [produce]
    consumes: [{name: payload, from: produce, path: restored}]
    run: "true"
YAML
t0=$(date +%s.%N)
/usr/bin/time -f '%M' -o rss.txt "$mp" run --progress never --report report.json >run.log 2>&1 || {
    cat run.log >&2; exit 1; }
t1=$(date +%s.%N)
rss_run=$(tail -1 rss.txt)
cmp -s <(cd data && find . -type f -exec sha256sum {} + | sort) \
       <(cd restored/data && find . -type f -exec sha256sum {} + | sort) || { echo "restored tree differs" >&2; exit 1; }

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
line() { # line WHAT MP TAR: "<what> modpipe W s (cpu C s)  tar W s (cpu C s)  ratio Rx (cpu Rx)"
    local mw mc tw tc
    mw=$(best "$2" 1) mc=$(best "$2" 2) tw=$(best "$3" 1) tc=$(best "$3" 2)
    printf '%-7s modpipe %6.2f s (cpu %6.2f s)  tar %6.2f s (cpu %6.2f s)  ratio %sx wall, %sx cpu\n' \
        "$1" "$mw" "$mc" "$tw" "$tc" "$(ratio "$mw" "$tw")" "$(ratio "$mc" "$tc")"
}
printf 'payload: %s files, %d MB (%d bytes); blob %d bytes (tar --zstd: %d)\n' \
    "$files_packed" "$((in_bytes / 1048576))" "$in_bytes" "$blob_bytes" "$tar_blob"
line pack mp-pack tar-pack
line unpack mp-unpack tar-unpack
printf 'peak RSS: pack %d KB, unpack %d KB; modpipe run (publish + fetch + extract) %d KB, %s s wall\n' \
    "$rss_pack" "$rss_unpack" "$rss_run" "$(python3 -c "print('%.1f' % ($t1 - $t0))")"
