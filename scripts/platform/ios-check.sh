#!/usr/bin/env bash
# iOS checks that run on Linux (no Swift compiler here):
#  1. every Swift file (ios/**, generated bindings) parses with tree-sitter-swift: no ERROR/MISSING nodes;
#  2. the generated C header passes `clang -fsyntax-only` for the iOS device/simulator targets, -Werror;
#  3. every FFI function the header declares is exported by the built library (shared and static);
#  4. the Xcode project spec, entitlements and Info.plists (check_ios_project.py), and that each of those checks
#     fails on files broken the way it guards against (test_check_ios_project.py).
# Needs: python3 + pip (tree-sitter, tree-sitter-swift, PyYAML from PyPI, into a venv here), clang, binutils.
source "$(dirname "$0")/lib.sh"
timed ios-check
cd "$ROOT"

"$ROOT/scripts/platform/gen-bindings.sh" >/dev/null
GEN="$ROOT/crates/ffi/generated/swift"

# 1. Swift syntax.
VENV="$CARGO_TARGET_DIR/platform-venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import tree_sitter, tree_sitter_swift, yaml' 2>/dev/null; then
    run venv python3 -m venv "$VENV"
    run pip-tree-sitter "$VENV/bin/pip" install -q "tree-sitter>=0.23,<0.26" "tree-sitter-swift>=0.7,<0.8" "PyYAML>=6,<7"
fi
mapfile -t SWIFT < <(find ios -name '*.swift' -not -path '*/.build/*' | sort; echo "$GEN/TandemFFI.swift")
"$VENV/bin/python" scripts/platform/check_swift.py "${SWIFT[@]}"

# 2. The C header compiles on its own as Swift's clang importer reads it (clang: it uses _Nonnull/_Nullable),
#    for the 64-bit Apple targets.
command -v clang >/dev/null || need_apt clang
#    -ffreestanding: clang's own stdint.h/stdbool.h stand in for the iOS SDK's.
UNIT="$LOG_DIR/header-check.c"
printf '#include "TandemFFIC.h"\n' >"$UNIT"
for triple in arm64-apple-ios17.0 arm64-apple-ios17.0-simulator x86_64-apple-ios17.0-simulator; do
    run "c-header-$triple" clang -fsyntax-only -ffreestanding -target "$triple" -std=c11 -Wall -Wextra -Werror \
        -Wnullability-completeness -I "$GEN" "$UNIT"
done

# 3. Every declared function is exported. Declarations are one per line: `RET NAME(ARGS` up to `);`.
DECLARED=$(grep -oE '\b(uniffi|ffi)_[A-Za-z0-9_]+\(' "$GEN/TandemFFIC.h" | tr -d '(' | sort -u)
SO="$CARGO_TARGET_DIR/debug/libtandem_ffi.so"
A="$CARGO_TARGET_DIR/debug/libtandem_ffi.a"
run cargo-staticlib cargo build -p tandem-ffi --features bindgen-cli --lib
EXPORTED_SO=$(nm -D --defined-only "$SO" | awk '$2 == "T" {print $3}' | sort -u)
EXPORTED_A=$(nm --defined-only "$A" 2>/dev/null | awk '$2 == "T" {print $3}' | sort -u)
missing_so=$(comm -23 <(echo "$DECLARED") <(echo "$EXPORTED_SO"))
missing_a=$(comm -23 <(echo "$DECLARED") <(echo "$EXPORTED_A"))
count=$(echo "$DECLARED" | wc -l)
if [ -n "$missing_so$missing_a" ]; then
    echo "ios-check: declared in the header but not exported:" >&2
    echo "  shared: ${missing_so:-none}" >&2
    echo "  static: ${missing_a:-none}" >&2
    exit 1
fi
echo "ffi-symbols: $count passed, 0 failed"

# 4. The Xcode project spec and plists, and the checks' own tests (each check fails on a file broken its way).
run ios-project "$VENV/bin/python" scripts/platform/check_ios_project.py ios
tail -n 1 "$LOG_DIR/ios-project.log"
run ios-project-selftest "$VENV/bin/python" scripts/platform/test_check_ios_project.py
echo "ios-project-selftest: $(grep -oE '^Ran [0-9]+ tests' "$LOG_DIR/ios-project-selftest.log"), ok"
