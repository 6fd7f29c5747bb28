#!/usr/bin/env bash
# artifacts_bench.sh -- artifacts with a big payload (DESIGN §3.6, §6).
#
#   bench/artifacts_bench.sh BUILD_DIR [SIZE_MB]     (default 2048)
#
# BUILD_DIR is a -DMODPIPE_BENCH=ON build (modpipe and bench/artifacts_pack).
# Makes SIZE_MB of files (half random bytes, half base64 text, 16 files),
# then:
#   1. pack + unpack with artifacts_pack vs `tar --zstd -cf` / `tar --zstd
#      -xf` on the same files (same zstd level 3), ratios printed;
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

secs() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$@"; }
now() { date +%s.%N; }

# 1. pack/unpack vs tar (best of 2 each, page cache warm for both).
best_pack=999999 best_unpack=999999 best_tpack=999999 best_tunpack=999999
for round in 1 2; do
    rm -rf blob.tar.zst out tar.tar.zst tout
    line=$("$packer" "$work" 'data/**' "$work/blob.tar.zst" "$work/out")
    eval "$line"   # pack_s unpack_s files in_bytes blob_bytes peak_rss_kb
    rss_packer=$peak_rss_kb
    t0=$(now); tar --zstd -cf tar.tar.zst data; t1=$(now)
    mkdir tout; t2=$(now); tar --zstd -xf tar.tar.zst -C tout; t3=$(now)
    tp=$(secs "$t0" "$t1") tu=$(secs "$t2" "$t3")
    best_pack=$(python3 -c "print(min($best_pack, $pack_s))")
    best_unpack=$(python3 -c "print(min($best_unpack, $unpack_s))")
    best_tpack=$(python3 -c "print(min($best_tpack, $tp))")
    best_tunpack=$(python3 -c "print(min($best_tunpack, $tu))")
done
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
t0=$(now)
/usr/bin/time -f '%M' -o rss.txt "$mp" run --progress never --report report.json >run.log 2>&1 || {
    cat run.log >&2; exit 1; }
t1=$(now)
rss_run=$(tail -1 rss.txt)
cmp -s <(cd data && find . -type f -exec sha256sum {} + | sort) \
       <(cd restored/data && find . -type f -exec sha256sum {} + | sort) || { echo "restored tree differs" >&2; exit 1; }

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
printf 'payload: %s files, %d MB (%d bytes)\n' "$files" "$((in_bytes / 1048576))" "$in_bytes"
printf 'pack:    modpipe %.2f s  tar --zstd -cf %.2f s  ratio %sx  (blob %d vs %d bytes)\n' \
    "$best_pack" "$best_tpack" "$(ratio "$best_pack" "$best_tpack")" "$blob_bytes" "$tar_blob"
printf 'unpack:  modpipe %.2f s  tar --zstd -xf %.2f s  ratio %sx\n' \
    "$best_unpack" "$best_tunpack" "$(ratio "$best_unpack" "$best_tunpack")"
printf 'peak RSS: artifacts_pack %d KB; modpipe run (publish + fetch + extract) %d KB, %s s wall\n' \
    "$rss_packer" "$rss_run" "$(secs "$t0" "$t1")"
