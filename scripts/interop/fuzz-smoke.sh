#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each for a short while from seeds made from
# tests/data/hybrid-vectors.json. Exits non-zero if a target fails to build or finds a crash.
#   FUZZ_SECONDS   seconds per target (default 20)
#   FUZZ_TARGETS   space-separated subset (default: all)
# Needs a nightly toolchain (installed with rustup if missing) and cargo-fuzz (installed locally).
source "$(dirname "$0")/common.sh"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"

if ! rustup toolchain list | grep -q '^nightly'; then
    log "installing the nightly toolchain (cargo-fuzz needs -Zsanitizer)"
    rustup toolchain install nightly --profile minimal
fi
cargo_install_local cargo-fuzz 0.13.2

export CARGO_TARGET_DIR="$INTEROP_DIR/fuzz-target"
cd "$ROOT/fuzz"
targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
# One build for all targets (cargo-fuzz builds every [[bin]] when no target is named).
timed "fuzz build" cargo +nightly fuzz build
for t in $targets; do
    [ -x "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/$t" ] || die "fuzz target $t did not build"
done

corpus="$INTEROP_DIR/fuzz-corpus"
python3 "$ROOT/tests/interop/fuzz_seeds.py" "$ROOT/tests/data/hybrid-vectors.json" "$corpus" $targets

passed=0; failed=0
for t in $targets; do
    log "fuzzing $t for ${SECONDS_PER_TARGET}s"
    out="$INTEROP_DIR/fuzz-$t.log"
    if cargo +nightly fuzz run "$t" "$corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -rss_limit_mb=2048 \
        -artifact_prefix="$INTEROP_DIR/fuzz-artifacts-$t-" >"$out" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out" | grep -o '[0-9]*$' || echo '?')
        log "$t: ok, $runs executions"
        passed=$((passed + 1))
    else
        log "$t: CRASH or error, see $out"; grep -m5 -E 'panicked|ERROR|SUMMARY' "$out" >&2 || true
        failed=$((failed + 1))
    fi
done
echo "fuzz-smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
