#!/usr/bin/env bash
# scripts/dev.sh -- the two commands of README.md, for a fresh Debian/Ubuntu
# machine that has nothing but git:
#
#   scripts/dev.sh demo    install what is missing, build, run the example pipeline
#                          (examples/modpipe.yml, from inside examples/) spread over
#                          3 local instances (a master and 2 worker processes
#                          meeting in a private redis-server)
#   scripts/dev.sh check   install what is missing, build, run the whole test suite
#                          (normal build, then AddressSanitizer+UBSan, then a short
#                          fuzzing run of the YAML loader when clang is present)
#
# Knobs: BUILD_DIR (default build), ASAN_BUILD_DIR (default build-asan),
# JOBS (default: CPUs), FUZZ_SECONDS (default 30), MODPIPE_WERROR=ON in CI.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
BUILD_DIR=${BUILD_DIR:-build}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
WERROR=${MODPIPE_WERROR:-OFF}

log() { printf 'dev.sh: %s\n' "$*" >&2; }

# Packages: build tools, the libraries modpipe links, cmocka for tests, clang
# for the fuzzer, the servers the tests start themselves (redis-server; node
# runs the S3 test server), the peers the benchmarks compare with (ninja, RQ,
# the AWS CLI v2, tar with zstd), python3 for the benchmark generators.
PACKAGES=(build-essential cmake pkg-config libyaml-dev libjansson-dev libssl-dev
          libhiredis-dev libcurl4-openssl-dev libarchive-dev libzstd-dev
          libcmocka-dev clang python3 redis-server redis-tools curl zstd
          ninja-build python3-rq awscli)
# The S3-compatible test server (checks SigV4 signatures), from npm.
S3_SERVER_PKG=@20minutes/s3rver
S3_SERVER_VERSION=5.0.0
SERVICES_DIR=${MODPIPE_SERVICES_DIR:-${HOME:-/root}/.cache/modpipe-test-services}

install_deps() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
}

# node + npm (Debian's when the machine has none), then the S3 test server.
install_test_services() {
    if ! command -v npm >/dev/null; then
        PACKAGES=(nodejs npm)
        install_deps
    fi
    local d="$SERVICES_DIR/node_modules/$S3_SERVER_PKG"
    if [ -f "$d/package.json" ] && grep -q "\"version\": \"$S3_SERVER_VERSION\"" "$d/package.json"; then
        return 0
    fi
    log "installing $S3_SERVER_PKG@$S3_SERVER_VERSION from npm into $SERVICES_DIR"
    mkdir -p "$SERVICES_DIR"
    [ -f "$SERVICES_DIR/package.json" ] || echo '{"private":true}' >"$SERVICES_DIR/package.json"
    (cd "$SERVICES_DIR" && npm install --no-audit --no-fund --loglevel=error \
        "$S3_SERVER_PKG@$S3_SERVER_VERSION" >/dev/null)
}

build() { # build DIR [cmake args...]
    local dir=$1; shift
    cmake -S . -B "$dir" -DMODPIPE_WERROR="$WERROR" "$@" >/dev/null
    cmake --build "$dir" -j "$JOBS"
}

demo() {
    install_deps
    build "$BUILD_DIR"
    local mp
    mp="$(cd "$BUILD_DIR" && pwd)/modpipe"
    log "running examples/modpipe.yml on 3 local instances"
    (cd examples && "$mp" validate && "$mp" run --local-instances 3)
}

fuzz_smoke() {
    if ! command -v clang >/dev/null; then
        log "clang not found: fuzzing skipped"
        [ "${CI:-}" != true ] || return 1
        return 0
    fi
    CC=clang build "$FUZZ_BUILD_DIR" -DMODPIPE_FUZZ=ON -DMODPIPE_TESTS=OFF
    local corpus rc=0
    corpus=$(mktemp -d)
    cp tests/fixtures/valid/*.yml tests/fixtures/invalid/*.yml tests/fuzz/corpus/* "$corpus"/ 2>/dev/null || true
    log "fuzzing the YAML loader for ${FUZZ_SECONDS}s"
    "$FUZZ_BUILD_DIR/tests/fuzz/fuzz_load" -max_total_time="$FUZZ_SECONDS" -max_len=65536 \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$corpus" || rc=$?
    rm -rf "$corpus"
    return "$rc"
}

check() {
    install_deps
    install_test_services
    export MODPIPE_SERVICES_DIR="$SERVICES_DIR"
    build "$BUILD_DIR"
    log "test suite"
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
    build "$ASAN_BUILD_DIR" -DMODPIPE_SANITIZE=ON
    log "test suite under AddressSanitizer + UBSan"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir "$ASAN_BUILD_DIR" --output-on-failure -j "$JOBS"
    fuzz_smoke
}

case "${1:-}" in
demo) demo ;;
check) check ;;
deps) install_deps && install_test_services ;;
*)
    echo "usage: scripts/dev.sh demo|check" >&2
    exit 2
    ;;
esac
