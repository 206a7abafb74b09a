#!/usr/bin/env bash
# Runs every test Tandem has. Installs what it needs first (scripts/setup.sh and each suite's own script).
# This is what CI runs (.ci/run). Every suite runs even if an earlier one failed; the exit status is non-zero
# if any failed, and the last line counts suites passed and failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# The BlueZ-over-D-Bus tests must run here, not skip: setup.sh installs dbus-daemon.
export TANDEM_REQUIRE_DBUS=1
# A short fuzz smoke run per target in CI; longer runs and their figures are in docs/fuzzing.md.
export FUZZ_SECONDS="${FUZZ_SECONDS:-10}"

passed=0
failed=0
failed_names=()
suite() {
    local name="$1"
    shift
    printf '\n=== %s\n' "$name"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        printf '=== %s: ok (%ss)\n' "$name" $((SECONDS - start))
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        printf '=== %s: FAILED (%ss)\n' "$name" $((SECONDS - start))
    fi
}

scripts/setup.sh || { echo "setup failed"; exit 1; }

# Rust: formatting, lints, and every crate's unit, property, integration and end-to-end tests.
suite "rustfmt" cargo fmt --all -- --check
# Every docs/<file>.md#<anchor> reference resolves; no bare references to documents outside the repository.
suite "doc references" python3 scripts/check_doc_refs.py
# The crate arrows in docs/architecture.md are the real ones, and no two files of a crate depend on each other.
suite "architecture" bash -c 'python3 scripts/test_check_architecture.py && python3 scripts/check_architecture.py'
suite "clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
suite "rust tests" cargo test --workspace --locked

# Interoperability with implementations written by others, and fuzzing.
for s in ${TANDEM_INTEROP_SUITES:-python-fido2 rp-verifiers fuzz-smoke cable-initiator chromium}; do
    [ -f "scripts/interop/$s.sh" ] && suite "interop: $s" bash "scripts/interop/$s.sh"
done

# Platform SDKs: Kotlin on the JVM, Android type-check, the Android app under Robolectric, iOS checks,
# aarch64 build/size/tests.
for s in ${TANDEM_PLATFORM_SUITES:-kotlin-jvm-test android-typecheck android-robolectric ios-check aarch64}; do
    [ -f "scripts/platform/$s.sh" ] && suite "platform: $s" bash "scripts/platform/$s.sh"
done

printf '\n'
[ "$failed" -eq 0 ] || printf 'failed suites: %s\n' "${failed_names[*]}"
printf 'suites: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
